import XCTest
import CKernels

final class SmokeTests: XCTestCase {
    func testISAIsChosen() {
        slm_kernels_init()
        XCTAssertNotNil(slm_isa_name(slm_active_isa()))
    }
}
