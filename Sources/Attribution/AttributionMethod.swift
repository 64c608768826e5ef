/// The attribution methods `ephys attribute` and the Pointing Game compute, by their command-line
/// names. Each makes one map per image for one class.
public enum AttributionMethod: String, Sendable, CaseIterable {
  /// max over input channels of |d score / d input| (Simonyan et al. 2014).
  case gradient
  /// Deconvnet: the gradient with every ReLU passing back max(g, 0) (Zeiler & Fergus 2014).
  case deconvnet
  /// Guided backprop: ReLUs pass back max(g, 0) where their input was positive (Springenberg et al.).
  case guided
  /// CAM: sum over channels of w[class, c] * A_c at the layer before global average pooling and
  /// one linear classifier (Zhou et al. 2016); not clamped.
  case cam
  /// Grad-CAM: max(0, sum_c A_c * mean over positions of d score / d A_c) (Selvaraju et al. 2017).
  case gradCAM = "grad-cam"
  /// LRP-epsilon, summed over channels at the layer (Bach et al. 2015).
  case lrpEpsilon = "lrp-epsilon"
  /// LRP alpha1-beta0 (z+), summed over channels at the layer.
  case lrpZPlus = "lrp-zplus"
  /// Excitation Backprop's marginal winning probability, summed over channels (Zhang et al. 2016).
  case mwp
  /// Contrastive MWP: target minus dual signal at the contrast layer, propagated to the map layer,
  /// summed over channels and clamped at 0.
  case contrastiveMWP = "c-mwp"
  /// The image centre: a baseline that needs no network (the Pointing Game's "center").
  case center

  /// Whether the map lives at the input (the gradient family) rather than at a chosen layer.
  public var mapsAtInput: Bool { self == .gradient || self == .deconvnet || self == .guided }

  /// Whether the Pointing Game smooths the upsampled map (sigma 0.02 max(H, W)), as TorchRay and the
  /// paper do for gradient, deconvnet and guided backprop.
  public var blurred: Bool { mapsAtInput }

  /// The methods computed from a network (all but `center`).
  public static var networkMethods: [AttributionMethod] { allCases.filter { $0 != .center } }
}
