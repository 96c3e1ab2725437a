import XCTest
final class EnginePlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
