import Engine

/// HSAL-RL (Welleck, Mao, Cho and Zhang 2017): the activation model f_A, the meta-controller
/// (saliency map and previous label -> linear encoder -> GRU -> K Gaussian attention components) and
/// the controller (priority map, previous label, previous glimpse location and glimpse vector ->
/// linear encoder -> GRU -> glimpse location, class or "stop", and a state-value estimate). Module
/// names: `activation.features.N`, `activation.head`, `meta.encoder`, `meta.gru`, `meta.attention`,
/// `controller.encoder`, `controller.gru`, `controller.location`, `controller.label`,
/// `controller.value`. The forward pass of the module is f_A's (the activation volume), so the
/// workbench records f_A's units; `rollout` runs the attention.
public final class SaliencyMultisetNet: Module {
  public let config: SaliencyMultisetConfig
  public let activation: ActivationCNN
  public let metaEncoder: Linear
  public let metaGRU: GRUCell
  public let attentionHead: Linear
  public let controllerEncoder: Linear
  public let controllerGRU: GRUCell
  public let locationHead: Linear
  public let labelHead: Linear
  public let valueHead: Linear

  /// A network with PyTorch's default initialisation from `seed` (the activation model first, so
  /// the same seed gives the same f_A as its pretraining).
  public init(_ config: SaliencyMultisetConfig = SaliencyMultisetConfig(), seed: UInt64 = 0) {
    self.config = config
    var rng = RandomGenerator(seed: seed)
    activation = ActivationCNN(config, rng: &rng)
    metaEncoder = Linear(config.metaInput, config.metaHidden, rng: &rng)
    metaGRU = GRUCell(inputSize: config.metaHidden, hiddenSize: config.metaHidden, rng: &rng)
    attentionHead = Linear(config.metaHidden, 4 * config.components, rng: &rng)
    controllerEncoder = Linear(config.controllerInput, config.controllerHidden, rng: &rng)
    controllerGRU = GRUCell(inputSize: config.controllerHidden, hiddenSize: config.controllerHidden, rng: &rng)
    locationHead = Linear(config.controllerHidden, config.locations, rng: &rng)
    labelHead = Linear(config.controllerHidden, config.outcomes, rng: &rng)
    valueHead = Linear(config.controllerHidden, 1, rng: &rng)
    super.init()
    registerModule("activation", activation)
    let meta = Module()
    meta.registerModule("encoder", metaEncoder)
    meta.registerModule("gru", metaGRU)
    meta.registerModule("attention", attentionHead)
    registerModule("meta", meta)
    let controller = Module()
    controller.registerModule("encoder", controllerEncoder)
    controller.registerModule("gru", controllerGRU)
    controller.registerModule("location", locationHead)
    controller.registerModule("label", labelHead)
    controller.registerModule("value", valueHead)
    registerModule("controller", controller)
  }

  /// The activation volume V [N, C, h, w] of canvases [N, 1, side, side].
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { activation.volume(x) }

  /// The parameters the attention training updates (everything but the activation model, which is
  /// pretrained and then frozen, as the paper fine-tunes its ResNet first).
  public func attentionParameters() -> [Tensor<Float>] {
    namedParameters().filter { !$0.name.hasPrefix("activation.") }.map(\.tensor)
  }
}
