// Engine users see the scalar protocol and kernel geometry types directly.
@_exported import Kernels
