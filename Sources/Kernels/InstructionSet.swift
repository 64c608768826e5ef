internal import CKernels

/// The x86-64 instruction sets the C kernels (CKernels) are compiled for, chosen at run time from CPUID:
/// every CPU runs its widest path and none executes an instruction it lacks. All paths give the same
/// bits (no FMA contraction), so outputs do not depend on the CPU's vector width.
public enum InstructionSet: Int, Sendable, CaseIterable, Comparable {
  /// Baseline x86-64 (SSE2), and every non-x86 CPU.
  case baseline = 0
  case avx2 = 1
  case avx512 = 2

  /// The widest path this CPU and OS support.
  public static var supported: InstructionSet { InstructionSet(rawValue: Int(ephys_isa_supported().rawValue))! }

  /// The path the kernels run: `supported`, lowered by EPHYS_SIMD=baseline|avx2 (read once per process).
  public static var active: InstructionSet { InstructionSet(rawValue: Int(ephys_isa_active().rawValue))! }

  /// "baseline", "avx2" or "avx512".
  public var name: String { String(cString: ephys_isa_name(isa)) }

  var isa: ephys_isa { ephys_isa(rawValue: UInt32(rawValue)) }

  public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.rawValue < b.rawValue }
}
