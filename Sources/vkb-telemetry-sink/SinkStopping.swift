/// The sink was told to stop: sent as a user inbound event to every accepted connection,
/// and thrown for a connection accepted after that.
struct SinkStopping: Error {}
