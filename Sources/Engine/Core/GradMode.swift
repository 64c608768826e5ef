/// Whether ops record the autograd graph. Task-local, so concurrent tasks do not interfere.
public enum GradMode {
  /// True (the default) while ops record gradients.
  @TaskLocal public static var isEnabled = true
}

/// Runs `body` with gradient recording off (inference, sweeps, evaluation).
@inlinable
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
  try GradMode.$isEnabled.withValue(false) { try body() }
}
