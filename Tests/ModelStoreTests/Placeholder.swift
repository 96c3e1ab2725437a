import XCTest
// Temporary: replaced when the ModelStore tests land.
final class ModelStorePlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
