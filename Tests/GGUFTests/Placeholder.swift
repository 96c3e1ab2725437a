import XCTest
// Temporary: replaced when the GGUF tests land.
final class GGUFPlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
