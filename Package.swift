// swift-tools-version:6.0
// Ephys: in-silico electrophysiology on neural networks.
// Layout follows the data flow: Stimuli -> Models -> Recording -> Analysis -> Reports, with the
// training/inference Engine (and its raw-buffer Kernels) underneath and a thin CLI on top.
import PackageDescription

/// Release builds serialise generic engine code so client modules (Models, the CLI) get it specialised.
let fastSettings: [SwiftSetting] = [
  .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))
]

let package = Package(
  name: "Ephys",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "ephys", targets: ["ephys"]),
    .library(name: "Engine", targets: ["Engine"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // C libraries from Debian's -dev packages.
    .systemLibrary(
      name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]),
    // No pkgConfig for GSL on purpose: `pkg-config gsl` adds -lgslcblas, whose cblas_* symbols could
    // shadow OpenBLAS. GSL's own BLAS calls resolve to OpenBLAS instead (see EngineTests/LinkageTests).
    .systemLibrary(name: "CGSL", path: "Sources/CGSL", providers: [.apt(["libgsl-dev"])]),
    .systemLibrary(
      name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
      providers: [.apt(["libcairo2-dev"])]),
    .systemLibrary(
      name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
      providers: [.apt(["libpng-dev"])]),
    .systemLibrary(
      name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
      providers: [.apt(["libturbojpeg0-dev"])]),
    .systemLibrary(
      name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
      providers: [.apt(["libhdf5-dev"])]),
    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]),

    // Float loops compiled per instruction set (baseline, AVX2, AVX-512F), chosen at run time; no FMA
    // contraction, so every path gives the Swift twin's bits; no builtins, so short row copies stay
    // inline vector loops instead of becoming memcpy calls.
    .target(
      name: "CKernels",
      cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-builtin"])]),
    // Raw-buffer kernels: each fast kernel has a naive twin that tests compare against.
    .target(
      name: "Kernels",
      dependencies: ["CBLAS", "CKernels", .product(name: "RealModule", package: "swift-numerics")],
      swiftSettings: fastSettings),
    // Tensors, autograd, ops with backward rules, modules, optimisers, checkpoint I/O.
    .target(name: "Engine", dependencies: ["Kernels", "CZlib"], swiftSettings: fastSettings),
    // PNG and JPEG files, montages.
    .target(name: "ImageIO", dependencies: ["Engine", "CPNG", "CTurboJPEG"], swiftSettings: fastSettings),
    // Data sets: MNIST (IDX and CSV subset), multi-digit composites, COCO-format instances.
    .target(name: "Datasets", dependencies: ["Engine", "ImageIO", "CZlib"], swiftSettings: fastSettings),
    // Parametric stimuli: Gaussian bars, gratings, Gabors, distractors, sweeps.
    .target(name: "Stimuli", dependencies: ["Engine", "ImageIO"], swiftSettings: fastSettings),
    // What the recording harness asks of a model: input geometry, recordable layers with receptive
    // fields, attention conditions, and the layer gains every CNN supports.
    .target(name: "ModelInterface", dependencies: ["Engine", "Stimuli"], swiftSettings: fastSettings),
    // Recording harness: unit selection, streamed responses, tuning curves; knows no model.
    .target(name: "Recording", dependencies: ["Engine", "Stimuli", "ModelInterface"], swiftSettings: fastSettings),
    // Protocol files (YAML), validation with file:line:column errors, the runner.
    .target(
      name: "Workbench",
      dependencies: [
        "Engine", "Datasets", "Models", "ModelInterface", "Stimuli", "Recording", "Analysis", "Reports", "NWB",
        "ImageIO", "CCairo", "Attribution", .product(name: "Yams", package: "Yams"),
      ],
      swiftSettings: fastSettings),
    // The fuzz harness behind `ephys fuzz`: seeded mutants of a corpus through every reader.
    .target(
      name: "Fuzzing",
      dependencies: [
        "Engine", "Datasets", "Models", "Stimuli", "Recording", "Analysis", "Reports", "ImageIO", "Workbench",
      ],
      swiftSettings: fastSettings),
    // Top-down attention maps (gradient, deconvnet, guided, CAM, Grad-CAM, LRP, Excitation Backprop's MWP
    // and c-MWP) as backward-rule tables on the engine, and the Pointing Game.
    .target(name: "Attribution", dependencies: ["Engine", "Kernels"], swiftSettings: fastSettings),
    // Throughput of the engine on the peer script's workloads (ephys bench).
    .target(name: "Benchmarks", dependencies: ["Engine", "Models", "Attribution"], swiftSettings: fastSettings),
    // Figures and PDF/PNG pages on Cairo.
    .target(name: "Reports", dependencies: ["CCairo"], swiftSettings: fastSettings),
    // NWB 2.x files on HDF5 (Neurodata Without Borders: pynwb, pynapple, DANDI).
    .target(name: "NWB", dependencies: ["CHDF5"], swiftSettings: fastSettings),
    // Statistics on GSL.
    .target(name: "Analysis", dependencies: ["CGSL"], swiftSettings: fastSettings),
    // ONNX files (protobuf, external data) and a graph executor on the engine: any exported network.
    .target(
      name: "ONNX", dependencies: ["Engine", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      swiftSettings: fastSettings),
    // Models built on the engine.
    .target(
      name: "Models", dependencies: ["Engine", "Datasets", "ImageIO", "Stimuli", "ModelInterface", "ONNX"],
      swiftSettings: fastSettings),
    // The command-line shell.
    .executableTarget(
      name: "ephys",
      dependencies: [
        "Engine", "Datasets", "Models", "ModelInterface", "Analysis", "ImageIO", "Stimuli", "Recording", "Workbench",
        "Attribution", "Reports", "Benchmarks", "Fuzzing", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: fastSettings),

    .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
    // Helpers the test targets share (the system python's peers, the parity error measure).
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "ONNXTests", dependencies: ["Engine", "ONNX", "Fuzzing", "TestSupport"]),
    .testTarget(
      name: "AttributionTests", dependencies: ["Engine", "Attribution", "Models", "Datasets"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "ReportsTests", dependencies: ["Reports"]),
    .testTarget(name: "NWBTests", dependencies: ["NWB"]),
    .testTarget(name: "ModelInterfaceTests", dependencies: ["Engine", "Stimuli", "ModelInterface"]),
    // The command line as a user runs it: subprocesses of the built `ephys` (fuzzing, kill -9).
    .testTarget(name: "ephysTests", dependencies: ["Engine", "Datasets", "ModelInterface", "ONNX", "Models", "ephys", "TestSupport"]),
    .testTarget(name: "AnalysisTests", dependencies: ["Analysis"], resources: [.copy("Fixtures")]),
    .testTarget(
      name: "WorkbenchTests",
      dependencies: ["Engine", "Stimuli", "ModelInterface", "Recording", "Workbench", "Models", "ImageIO"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "EngineTests", dependencies: ["Engine", "Kernels", "CCairo", "CPNG"],
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ModelsTests",
      dependencies: ["Engine", "Datasets", "Models", "ModelInterface", "Stimuli", "Analysis", "ImageIO"],
      resources: [.copy("Fixtures")]),
  ],
  swiftLanguageModes: [.v6]
)
