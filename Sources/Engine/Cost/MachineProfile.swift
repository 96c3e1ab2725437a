import Foundation

/// The CPU slm runs on, as far as pricing it goes: how many CPUs, whose, and whether AVX-512 is there.
public struct MachineProfile: Sendable, Equatable {
    public enum Vendor: String, Sendable { case amd = "AMD", intel = "Intel", arm = "Arm", unknown }
    public var cpus: Int
    public var vendor: Vendor
    public var avx512: Bool
    /// "model name" as /proc/cpuinfo spells it ("AMD EPYC"), or empty.
    public var modelName: String

    public init(cpus: Int, vendor: Vendor, avx512: Bool, modelName: String = "") {
        self.cpus = cpus
        self.vendor = vendor
        self.avx512 = avx512
        self.modelName = modelName
    }

    public var summary: String {
        let name = modelName.isEmpty ? vendor.rawValue : modelName
        return "\(cpus) CPU\(cpus == 1 ? "" : "s") \(name)\(avx512 ? " with AVX-512" : "")"
    }

    /// Reads /proc/cpuinfo (Linux); elsewhere, the processor count and an unknown vendor.
    public static func current() -> MachineProfile {
        let count = ProcessInfo.processInfo.activeProcessorCount
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return MachineProfile(cpus: count, vendor: .unknown, avx512: false)
        }
        return parse(cpuinfo: text, fallbackCount: count)
    }

    /// The profile a /proc/cpuinfo text describes.
    public static func parse(cpuinfo text: String, fallbackCount: Int) -> MachineProfile {
        var processors = 0, vendor = Vendor.unknown, avx512 = false, model = ""
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "processor": processors += 1
            case "vendor_id":
                if parts[1] == "AuthenticAMD" { vendor = .amd } else if parts[1] == "GenuineIntel" { vendor = .intel }
            case "CPU implementer": vendor = .arm
            case "flags": avx512 = avx512 || parts[1].split(separator: " ").contains("avx512f")
            case "model name": if model.isEmpty { model = parts[1] }
            default: break
            }
        }
        return MachineProfile(cpus: processors > 0 ? processors : fallbackCount, vendor: vendor, avx512: avx512, modelName: model)
    }
}
