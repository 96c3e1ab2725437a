import ArgumentParser
import Foundation
import SLMEngine

/// The hardware-cost flags of `slm cost`: a rented machine (--usd-per-hour or a --hardware preset), an owned device
/// (--device-usd, --watts, ...; or --hardware pi5 with any of them overriding), or by default this machine priced as
/// the cloud VM it resembles.
struct HardwareOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A preset: \(HardwareCost.presets.map(\.name).joined(separator: ", ")).", valueName: "NAME"))
    var hardware: String?
    @Option(name: .long, help: ArgumentHelp("A rented machine at this price per hour (USD).", valueName: "USD"))
    var usdPerHour: Double?
    @Option(name: .long, help: ArgumentHelp("An owned device: its purchase price (USD).", valueName: "USD"))
    var deviceUsd: Double?
    @Option(name: .long, help: ArgumentHelp("An owned device: its power draw under load (W).", valueName: "W"))
    var watts: Double?
    @Option(name: .long, help: ArgumentHelp("Electricity price (USD per kWh; default 0.1747, US residential 2025).",
                                            valueName: "USD"))
    var usdPerKwh: Double?
    @Option(name: .long, help: ArgumentHelp("Years the device is used (default 3).", valueName: "Y")) var years: Double?
    @Option(name: .long, help: ArgumentHelp("Fraction of the time the device serves, (0, 1] (default 1).", valueName: "U"))
    var utilization: Double?

    var ownedFlagsGiven: Bool { deviceUsd != nil || watts != nil || usdPerKwh != nil || years != nil || utilization != nil }

    func validate() throws {
        if let h = hardware, HardwareCost.preset(named: h) == nil {
            throw ValidationError("--hardware must be one of \(HardwareCost.presets.map(\.name).joined(separator: ", ")), got '\(h)'")
        }
        if usdPerHour != nil && (hardware != nil || ownedFlagsGiven) {
            throw ValidationError("--usd-per-hour prices a rented machine: drop --hardware and the owned-device flags")
        }
        if let h = hardware.flatMap(HardwareCost.preset(named:)), h.owned == nil, ownedFlagsGiven {
            throw ValidationError("--hardware \(h.name) is a rented VM: the owned-device flags do not apply")
        }
        if hardware == nil, ownedFlagsGiven, deviceUsd == nil || watts == nil {
            throw ValidationError("an owned device needs --device-usd and --watts (or --hardware pi5)")
        }
        // Ranges: the engine's checks give the messages.
        do { _ = try cost(machine: MachineProfile(cpus: 2, vendor: .unknown, avx512: false)) } catch let e as CostError {
            throw ValidationError(e.description)
        }
    }

    /// The hardware the flags describe; `machine` is what the default resembles.
    func cost(machine: MachineProfile) throws -> HardwareCost {
        if let usdPerHour { return try HardwareCost.rented(usdPerHour: usdPerHour) }
        let preset = hardware.flatMap(HardwareCost.preset(named:))
        if let preset, let base = preset.owned {
            guard ownedFlagsGiven else { return preset }
            let d = OwnedDevice(deviceUSD: deviceUsd ?? base.deviceUSD, watts: watts ?? base.watts,
                                usdPerKWh: usdPerKwh ?? base.usdPerKWh, years: years ?? base.years,
                                utilization: utilization ?? base.utilization)
            return try HardwareCost.owned(d, name: preset.name + " (adjusted)")
        }
        if let preset { return preset }
        if let deviceUsd, let watts {
            return try HardwareCost.owned(OwnedDevice(deviceUSD: deviceUsd, watts: watts, usdPerKWh: usdPerKwh ?? 0.1747,
                                                      years: years ?? 3, utilization: utilization ?? 1))
        }
        return HardwareCost.resembling(machine)
    }
}

/// The price table and the cloud side's tokenization assumption.
struct PriceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A price table replacing the built-in one (the shape of `slm cost prices -o json`).",
                                            valueName: "FILE"))
    var prices: String?
    @Option(name: .long, help: ArgumentHelp("Characters per token assumed for the cloud models (default 4.0).", valueName: "X"))
    var cloudCharsPerToken: Double = CharsPerToken.cloudDefault

    func validate() throws {
        guard cloudCharsPerToken.isFinite, (0.5...100).contains(cloudCharsPerToken) else {
            throw ValidationError("--cloud-chars-per-token must be in 0.5...100, got \(cloudCharsPerToken)")
        }
    }

    var cloudBasis: String {
        cloudCharsPerToken == CharsPerToken.cloudDefault ? CharsPerToken.cloudDefaultBasis
            : "\(cloudCharsPerToken) characters per token for every cloud model (--cloud-chars-per-token)"
    }

    /// The table, with its staleness warning on stderr. A bad file is an input error naming the row.
    func table(quiet: Bool) throws -> PriceTable {
        let t: PriceTable
        if let prices {
            do { t = try PriceTable.load(path: prices) } catch { throw CLIError.runtime("--prices '\(prices)': \(error.description)") }
        } else {
            t = PriceTable.builtIn
        }
        if let w = t.staleWarning(), !quiet { Stdio.info("warning: \(w)") }
        return t
    }
}

/// "1,4,8" as counts in 1...256, or a usage error naming the flag.
func parseCounts(_ text: String, flag: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let counts = parts.compactMap { Int($0) }
    guard !parts.isEmpty, counts.count == parts.count, counts.allSatisfy({ (1...256).contains($0) }) else {
        throw ValidationError("\(flag) takes a comma-separated list of counts in 1...256, got '\(text)'")
    }
    return Array(Set(counts)).sorted()
}
