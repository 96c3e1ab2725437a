import XCTest
final class TokenizersPlaceholderTests: XCTestCase { func testPlaceholder() { XCTAssertTrue(true) } }
