import Foundation
@testable import SLMEngine
import XCTest

/// The cost arithmetic against hand-computed cases. Tolerances are relative 1e-9: the formulas are a few
/// multiplications and divisions of doubles, so only the last bits may differ from the hand computation.
final class CostArithmeticTests: XCTestCase {
    func close(_ a: Double?, _ b: Double, file: StaticString = #filePath, line: UInt = #line) {
        guard let a else { return XCTFail("nil, expected \(b)", file: file, line: line) }
        XCTAssertEqual(a, b, accuracy: abs(b) * 1e-9 + 1e-15, file: file, line: line)
    }

    func testRentedVMPricesTokensByTheSecond() throws {
        let vm = try HardwareCost.rented(usdPerHour: 0.1026)
        // 0.1026 $/h / 3600 s/h / 100 tok/s = 2.85e-7 $/token = 0.285 $ per 1M tokens.
        close(vm.usdPerMTok(tokensPerSecond: 100), 0.285)
        XCTAssertNil(vm.usdPerMTok(tokensPerSecond: 0))
        XCTAssertEqual(HardwareCost.preset(named: "aws-c7a.large")?.usdPerHour, 0.1026)
        XCTAssertEqual(HardwareCost.preset(named: "gcp-n2d-standard-2")?.usdPerHour, 0.0845)
    }

    func testOwnedDeviceWithUtilization() throws {
        // $100 over 3 years used half the time: 100 / (3 * 8760 * 0.5) = 0.00761035 $/h of use;
        // 9 W at 0.1747 $/kWh: 0.009 * 0.1747 = 0.0015723 $/h. Total 0.00918265 $/h.
        let d = OwnedDevice(deviceUSD: 100, watts: 9, usdPerKWh: 0.1747, years: 3, utilization: 0.5)
        close(d.usdPerHour, 100.0 / 13_140 + 0.0015723)
        close(d.fixedUSDPerMonth, 100.0 / 36)
        let hw = try HardwareCost.owned(d)
        close(hw.usdPerMTok(tokensPerSecond: 20), (100.0 / 13_140 + 0.0015723) / 3600 / 20 * 1e6)
        // The pi5 preset is the table's formula with duty cycle 1.
        close(HardwareCost.preset(named: "pi5")?.usdPerHour, 100.0 / (3 * 8760) + 0.009 * 0.1747)
    }

    func testHardwareFlagsOutOfRangeAreRefused() {
        XCTAssertThrowsError(try HardwareCost.rented(usdPerHour: -1))
        XCTAssertThrowsError(try HardwareCost.rented(usdPerHour: .infinity))
        XCTAssertThrowsError(try HardwareCost.rented(usdPerHour: 1e300))
        XCTAssertThrowsError(try HardwareCost.owned(OwnedDevice(deviceUSD: 100, watts: 5, usdPerKWh: 0.2, years: 0)))
        XCTAssertThrowsError(try HardwareCost.owned(OwnedDevice(deviceUSD: 100, watts: 5, usdPerKWh: 0.2, utilization: 0)))
        XCTAssertThrowsError(try HardwareCost.owned(OwnedDevice(deviceUSD: 100, watts: 5, usdPerKWh: 0.2, utilization: 1.5)))
        XCTAssertThrowsError(try HardwareCost.owned(OwnedDevice(deviceUSD: .nan, watts: 5, usdPerKWh: 0.2)))
    }

    func testBreakEvenMonthlyVolume() {
        // Fixed 100 / 36 = 2.7778 $/month. Energy: 10 W * 0.2 $/kWh = 0.002 $/h; at 10 tok/s 5.5556e-8 $/token.
        // Cloud 0.4 $/1M = 4e-7 $/token. V = 2.7778 / (4e-7 - 5.5556e-8) = 8.0645e6 tokens a month.
        let d = OwnedDevice(deviceUSD: 100, watts: 10, usdPerKWh: 0.2, years: 3, utilization: 1)
        close(CostReport.breakEven(device: d, tokS: 10, cloudUSDPerLocalToken: 0.4e-6), (100.0 / 36) / (0.4e-6 - 0.002 / 36_000) / 1e6)
        XCTAssertEqual(CostReport.breakEven(device: d, tokS: 10, cloudUSDPerLocalToken: 0.4e-6)!, 8.0645161, accuracy: 1e-6)
        // Cloud cheaper than the electricity alone: never.
        XCTAssertNil(CostReport.breakEven(device: d, tokS: 10, cloudUSDPerLocalToken: 0.05e-6))
    }

    func testReportPricesAndComparesPerCharacter() throws {
        let hw = try HardwareCost.rented(usdPerHour: 0.36)  // 1e-4 $/s
        let m = MeasuredThroughput(prefillTokS: 1000, decodeTokS: 50, decodeBatched: [1: 48, 4: 150], cacheRestoreTokS: 10_000)
        let table = PriceTable(asOf: "2026-11-23", rows: [CloudPrice(provider: "p", model: "m", input: 0.2, cachedInput: nil, output: 1.0)])
        // Local 5 chars per token, cloud 4: the same text is 0.8 cloud tokens per local token.
        let r = CostReport(hardware: hw, measured: m, charsPerToken: CharsPerToken(local: 5, cloud: 4, localBasis: "test"), table: table)
        close(r.local.usdPerMTokInput, 0.1)          // 1e-4 / 1000 * 1e6
        close(r.local.usdPerMTokOutput, 2.0)         // 1e-4 / 50 * 1e6
        close(r.local.usdPerMTokCachedInput, 0.01)
        close(r.local.usdPerMTokOutputBatched[4], 1e-4 / 150 * 1e6)
        // Per 1M characters: local input 0.1 / 5 = 0.02, cloud 0.2 / 4 = 0.05 -> 0.4x; output 2 / 5 = 0.4 vs 0.25 -> 1.6x.
        close(r.cloud[0].ratioInput, 0.4)
        close(r.cloud[0].ratioOutput, 1.6)
        XCTAssertEqual(r.cloud[0].cheaper, "mixed (input: local, output: cloud)")
        XCTAssertNil(r.cloud[0].breakEvenOutputMTokPerMonth, "a rented machine has no break-even")
        // Compared at the best batched rate instead: 1e-4 / 150 * 1e6 / 5 = 0.1333 vs 0.25 -> local.
        let b = CostReport(hardware: hw, measured: m, charsPerToken: CharsPerToken(local: 5, cloud: 4, localBasis: "test"),
                           table: table, compareBatched: true)
        XCTAssertEqual(b.outputBasis.concurrency, 4)
        close(b.cloud[0].ratioOutput, (1e-4 / 150 * 1e6 / 5) / 0.25)
        XCTAssertEqual(b.cloud[0].cheaper, "local")
    }

    func testCachedInputRules() {
        let openai = CacheRules(minPromptTokens: 1024, incrementTokens: 128)
        XCTAssertEqual(openai.billableHit(sharedPrefix: 1000, promptTokens: 3000), 0, "below the minimum")
        XCTAssertEqual(openai.billableHit(sharedPrefix: 1024, promptTokens: 3000), 1024)
        XCTAssertEqual(openai.billableHit(sharedPrefix: 1200, promptTokens: 3000), 1152, "whole increments of 128")
        XCTAssertEqual(openai.billableHit(sharedPrefix: 2000, promptTokens: 1500), 1408, "never past the prompt")
        XCTAssertEqual(CacheRules().billableHit(sharedPrefix: 37, promptTokens: 100), 37)

        // Anthropic-like: input 1, hit 0.1, write 1.25, output 5 per 1M; minimum 2048.
        let row = CloudPrice(provider: "anthropic", model: "h", input: 1, cachedInput: 0.1, output: 5,
                             cacheRules: CacheRules(minPromptTokens: 2048, writeUSDPerMTok: 1.25))
        let first = row.usage(promptTokens: 3000, sharedWithEarlier: 0, sharedWithAny: 2500, outputTokens: 100)
        XCTAssertEqual(first, CloudUsage(promptTokens: 3000, cacheHitTokens: 0, cacheWriteTokens: 2500, outputTokens: 100))
        close(row.usd(first), (500 * 1 + 2500 * 1.25 + 100 * 5) / 1e6)
        let second = row.usage(promptTokens: 3000, sharedWithEarlier: 2500, sharedWithAny: 2500, outputTokens: 100)
        XCTAssertEqual(second.cacheHitTokens, 2500)
        XCTAssertEqual(second.cacheWriteTokens, 0)
        close(row.usd(second), (500 * 1 + 2500 * 0.1 + 100 * 5) / 1e6)
        // A shared prefix below the minimum is neither written nor hit.
        let short = row.usage(promptTokens: 3000, sharedWithEarlier: 1000, sharedWithAny: 1000, outputTokens: 0)
        close(row.usd(short), 3000 / 1e6)
        // No cached price: every prompt token at the input price, whatever is shared.
        let plain = CloudPrice(provider: "x", model: "y", input: 0.3, cachedInput: nil, output: 2.5)
        close(plain.usd(promptTokens: 2000, cachedTokens: 2000, outputTokens: 10), (2000 * 0.3 + 10 * 2.5) / 1e6)
        // The server's form: OpenAI rules on a local cached count.
        let oa = CloudPrice(provider: "openai", model: "m", input: 0.15, cachedInput: 0.075, output: 0.6, cacheRules: openai)
        close(oa.usd(promptTokens: 1300, cachedTokens: 1290, outputTokens: 20), ((1300 - 1280) * 0.15 + 1280 * 0.075 + 20 * 0.6) / 1e6)
    }

    func testSharedPrefixesAndReplayTotals() throws {
        let shared = ReplayReport.sharedPrefixes([[1, 2, 3, 4], [1, 2, 3, 5], [9, 9], [1, 2, 3, 4, 6]])
        XCTAssertEqual(shared.map(\.earlier), [0, 3, 0, 4])
        XCTAssertEqual(shared.map(\.any), [4, 3, 0, 4])

        let hw = try HardwareCost.rented(usdPerHour: 3.6)  // 1e-3 $/s
        let outcomes = [
            ReplayOutcome(line: 1, promptTokens: 100, cachedTokens: 0, generatedTokens: 20, maxTokens: 50,
                          inputCharacters: 300, inputTextTokens: 80, outputCharacters: 100),
            ReplayOutcome(line: 2, promptTokens: 120, cachedTokens: 64, generatedTokens: 30, reasoningTokens: 10, maxTokens: 50,
                          inputCharacters: 360, inputTextTokens: 90, outputCharacters: 140, reasoningCappedByBudget: true),
        ]
        let table = PriceTable(asOf: "2026-11-23", rows: [CloudPrice(provider: "p", model: "m", input: 1, cachedInput: nil, output: 2)])
        let r = ReplayReport(outcomes: outcomes, wallSeconds: 2, hardware: hw, table: table, prefillTokS: 320, cloudCharsPerToken: 4)
        XCTAssertEqual([r.promptTokens, r.cachedTokens, r.generatedTokens, r.reasoningTokens], [220, 64, 50, 10])
        close(r.localUSD, 2e-3)
        // Characters 900 over text tokens 80 + 90 + 50 = 220.
        close(r.charsPerToken.local, 900.0 / 220)
        close(r.prefixCacheSavedUSD, 64.0 / 320 * 1e-3)
        XCTAssertEqual(r.reasoningAvoidedTokensAtMost, 40)  // max_tokens 50 - 10 reasoning tokens
        close(r.reasoningAvoidedUSDAtMost, 40.0 / 25 * 1e-3)  // the replay made 50 tokens in 2 s
        // Cloud tokens: local * (900/220) / 4, rounded per request.
        let f = 900.0 / 220 / 4
        let cp = (100 * f).rounded() + (120 * f).rounded(), co = (20 * f).rounded() + (30 * f).rounded()
        XCTAssertEqual(r.cloud[0].usage.promptTokens, Int(cp))
        close(r.cloud[0].usd, (cp * 1 + co * 2) / 1e6)
        close(r.cloud[0].ratio, 2e-3 / ((cp + co * 2) / 1e6))
    }

    func testMachineProfileResemblesAVM() {
        let amd = MachineProfile.parse(cpuinfo: """
            processor\t: 0
            vendor_id\t: AuthenticAMD
            model name\t: AMD EPYC
            flags\t\t: fpu avx2 avx512f avx512bw
            processor\t: 1
            vendor_id\t: AuthenticAMD
            """, fallbackCount: 8)
        XCTAssertEqual(amd, MachineProfile(cpus: 2, vendor: .amd, avx512: true, modelName: "AMD EPYC"))
        let vm = HardwareCost.resembling(amd)
        XCTAssertEqual(vm.name, "aws-c7a.large")
        XCTAssertEqual(vm.usdPerHour, 0.1026)
        XCTAssertTrue(vm.description.contains("resembles"), vm.description)
        let four = HardwareCost.resembling(MachineProfile(cpus: 4, vendor: .intel, avx512: true))
        XCTAssertEqual(four.name, "aws-c7i.xlarge")
        close(four.usdPerHour, 0.08925 * 2)
        XCTAssertEqual(HardwareCost.resembling(MachineProfile(cpus: 2, vendor: .amd, avx512: false)).name, "aws-c6a.large")
        XCTAssertEqual(HardwareCost.resembling(MachineProfile(cpus: 3, vendor: .arm, avx512: false)).name, "aws-c7g.xlarge")
    }
}
