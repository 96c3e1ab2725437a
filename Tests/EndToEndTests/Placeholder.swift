import XCTest
final class EndToEndPlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
