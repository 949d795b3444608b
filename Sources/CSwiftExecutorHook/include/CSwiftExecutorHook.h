#ifndef CSWIFTEXECUTORHOOK_H
#define CSWIFTEXECUTORHOOK_H

/// Sets Swift concurrency's global-enqueue hook (`swift_task_enqueueGlobal_hook`) to
/// `hook` if no hook is set yet; returns 1 when it did, 0 otherwise.
///
/// SwiftNIO looks the hook up with dlsym, which finds it only while the Swift runtime is
/// a shared library: with `--static-swift-stdlib` the symbol is hidden, NIO's take-over
/// fails, and tasks run on libdispatch's worker threads. A reference linked in works in
/// both builds.
int vkb_install_global_enqueue_hook(void *hook);

#endif
