import XCTest
final class ModelStorePlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
