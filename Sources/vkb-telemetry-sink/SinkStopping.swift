/// User inbound event sent to every accepted connection when the sink is told to stop.
struct SinkStopping: Sendable {}
