/// What an hour of the machine that runs slm costs.
///
/// Rented: the VM's on-demand price per hour, whatever the load (an idle VM costs the same).
/// Owned: the purchase spread over the hours it is used, plus electricity while it runs:
///   usd_per_hour = device_usd / (years * 8760 * utilization) + watts / 1000 * usd_per_kwh
/// (`cloud-prices.json`'s `edge_device_usd_per_hour`, utilization being its duty cycle). Idle power is not counted.
public struct HardwareCost: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case rented(usdPerHour: Double)
        case owned(OwnedDevice)
    }

    /// Short name: a preset's ("aws-c7a.large", "pi5") or "vm" / "device" for numbers given by hand.
    public var name: String
    /// Plain words for the report ("AWS c7a.large (2 vCPU AMD EPYC Genoa), on-demand us-east-1").
    public var description: String
    public var kind: Kind
    /// Where the price comes from.
    public var source: String

    public init(name: String, description: String, kind: Kind, source: String = "") {
        self.name = name
        self.description = description
        self.kind = kind
        self.source = source
    }

    public var usdPerHour: Double {
        switch kind {
        case .rented(let p): return p
        case .owned(let d): return d.usdPerHour
        }
    }

    public var usdPerSecond: Double { usdPerHour / 3600 }

    public var owned: OwnedDevice? { if case .owned(let d) = kind { d } else { nil } }

    /// USD per 1M tokens produced at `tokensPerSecond` while the machine is paid for: usd_per_hour / 3600 / tok_s * 1e6.
    /// nil when nothing was produced.
    public func usdPerMTok(tokensPerSecond: Double) -> Double? {
        guard tokensPerSecond > 0, tokensPerSecond.isFinite else { return nil }
        return usdPerHour / 3600 / tokensPerSecond * 1e6
    }

    /// A rented machine at `usdPerHour` (checked: finite, 0...1000).
    public static func rented(usdPerHour: Double, name: String = "vm", description: String? = nil) throws(CostError) -> HardwareCost {
        guard usdPerHour.isFinite, usdPerHour >= 0, usdPerHour <= 1_000 else {
            throw .hardware("--usd-per-hour must be in 0...1000, got \(usdPerHour)")
        }
        return HardwareCost(name: name, description: description ?? "a rented machine at $\(usdPerHour)/hour",
                            kind: .rented(usdPerHour: usdPerHour), source: "given on the command line")
    }

    /// An owned device (each figure checked: device 0...1e7 USD, watts 0...1e5, usd/kWh 0...100, years (0, 100],
    /// utilization (0, 1]).
    public static func owned(_ d: OwnedDevice, name: String = "device", description: String? = nil) throws(CostError) -> HardwareCost {
        try d.validate()
        return HardwareCost(name: name, description: description ?? "an owned device: $\(d.deviceUSD), \(d.watts) W, "
                                + "$\(d.usdPerKWh)/kWh, \(d.years) years, \(Int((d.utilization * 100).rounded()))% utilization",
                            kind: .owned(d), source: "given on the command line")
    }
}

public struct OwnedDevice: Sendable, Equatable {
    public var deviceUSD: Double
    public var watts: Double
    public var usdPerKWh: Double
    public var years: Double
    /// Fraction of the hours in those years the device spends serving (0, 1].
    public var utilization: Double

    public init(deviceUSD: Double, watts: Double, usdPerKWh: Double, years: Double = 3, utilization: Double = 1) {
        self.deviceUSD = deviceUSD
        self.watts = watts
        self.usdPerKWh = usdPerKWh
        self.years = years
        self.utilization = utilization
    }

    public static let hoursPerYear = 8760.0
    public static let hoursPerMonth = 730.0

    /// The purchase per hour of use, plus the electricity of that hour.
    public var usdPerHour: Double { deviceUSD / (years * Self.hoursPerYear * utilization) + energyUSDPerHour }
    public var energyUSDPerHour: Double { watts / 1000 * usdPerKWh }
    /// The purchase spread over the months of its life, used or not.
    public var fixedUSDPerMonth: Double { deviceUSD / (years * 12) }

    func validate() throws(CostError) {
        func check(_ v: Double, _ flag: String, _ range: ClosedRange<Double>, open: Bool = false) throws(CostError) {
            guard v.isFinite, range.contains(v), !(open && v == range.lowerBound) else {
                throw .hardware("\(flag) must be in \(open ? "(" : "[")\(range.lowerBound), \(range.upperBound)], got \(v)")
            }
        }
        try check(deviceUSD, "--device-usd", 0...10_000_000)
        try check(watts, "--watts", 0...100_000)
        try check(usdPerKWh, "--usd-per-kwh", 0...100)
        try check(years, "--years", 0...100, open: true)
        try check(utilization, "--utilization", 0...1, open: true)
    }
}

extension HardwareCost {
    /// On-demand prices of 2-vCPU VMs (us-east-1 / us-central1 Linux), from `cloud-prices.json`'s `local_hardware`
    /// (quoted in public cost scripts, not read from AWS or GCP directly), and a Raspberry Pi 5.
    public static let presets: [HardwareCost] = [
        vm("aws-c7a.large", "AWS c7a.large (2 vCPU AMD EPYC Genoa, 4 GiB), on-demand us-east-1", 0.1026),
        vm("aws-c7i.large", "AWS c7i.large (2 vCPU Intel Sapphire Rapids, 4 GiB), on-demand us-east-1", 0.08925),
        vm("aws-c6a.large", "AWS c6a.large (2 vCPU AMD EPYC Milan, 4 GiB), on-demand us-east-1", 0.0765),
        vm("aws-c7g.large", "AWS c7g.large (2 vCPU Graviton3 arm64, 4 GiB), on-demand us-east-1", 0.0725),
        vm("gcp-n2d-standard-2", "GCP n2d-standard-2 (2 vCPU AMD, 8 GB), on-demand us-central1", 0.0845),
        vm("gcp-n2-standard-2", "GCP n2-standard-2 (2 vCPU Intel, 8 GB), on-demand us-central1", 0.0971),
        vm("gcp-e2-standard-2", "GCP e2-standard-2 (2 shared vCPU, 8 GB), on-demand us-central1", 0.067),
        HardwareCost(name: "pi5", description: "a Raspberry Pi 5 8GB bought for $100, 9 W under load, $0.1747/kWh (US residential), "
                        + "3 years, always busy (throughput measured on this machine, not on a Pi)",
                     kind: .owned(pi5), source: "cloud-prices.json local_hardware (Pi 5 2026 list price; 8-10 W sustained) and electricity (EIA, 2025-05)"),
    ]

    public static let pi5 = OwnedDevice(deviceUSD: 100, watts: 9, usdPerKWh: 0.1747, years: 3, utilization: 1)

    static func vm(_ name: String, _ description: String, _ price: Double) -> HardwareCost {
        HardwareCost(name: name, description: description, kind: .rented(usdPerHour: price),
                     source: "cloud-prices.json local_hardware (public cost scripts, 2026)")
    }

    /// This machine priced as the cloud VM it resembles (reads /proc/cpuinfo): the default of `slm cost`, and what
    /// prices a request's `local_cost`.
    public static var thisMachine: HardwareCost { resembling(.current()) }

    public static func preset(named name: String) -> HardwareCost? { presets.first { $0.name == name.lowercased() } }

    /// The VM a machine with `vcpus` CPUs of `vendor` resembles: the same family's size with at least that many vCPUs,
    /// priced linearly from the 2-vCPU row (on-demand prices within these families scale with the vCPU count).
    /// AMD with AVX-512: c7a (Genoa); AMD without: c6a (Milan); Intel: c7i; Arm: c7g; unknown: c7a.
    public static func resembling(_ machine: MachineProfile) -> HardwareCost {
        let family: String
        switch machine.vendor {
        case .amd: family = machine.avx512 ? "aws-c7a" : "aws-c6a"
        case .intel: family = "aws-c7i"
        case .arm: family = "aws-c7g"
        case .unknown: family = "aws-c7a"
        }
        let base = preset(named: family + ".large")!
        let sizes: [(vcpus: Int, suffix: String)] = [(2, "large"), (4, "xlarge"), (8, "2xlarge"), (16, "4xlarge"),
                                                      (32, "8xlarge"), (48, "12xlarge"), (64, "16xlarge"), (96, "24xlarge")]
        let size = sizes.first { $0.vcpus >= machine.cpus } ?? sizes.last!
        let price = base.usdPerHour * Double(size.vcpus) / 2
        let name = "\(family).\(size.suffix)"
        let words = size.vcpus == 2 ? base.description
            : "\(name.dropFirst(4)) (\(size.vcpus) vCPU), priced as \(size.vcpus / 2) x \(base.name.dropFirst(4))'s $\(base.usdPerHour)/hour"
        return HardwareCost(name: name, description: "this machine (\(machine.summary)) priced as the cloud VM it resembles: \(words)",
                            kind: .rented(usdPerHour: price), source: base.source)
    }
}
