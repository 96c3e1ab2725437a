import XCTest
final class GGUFPlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
