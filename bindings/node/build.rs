fn main() {
    // Links the addon the way Node loads it (the Node-API symbols resolved
    // from the host process).
    napi_build::setup();
}
