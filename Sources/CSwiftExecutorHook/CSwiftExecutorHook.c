#include "CSwiftExecutorHook.h"

// Defined by the Swift runtime (libswift_Concurrency), shared or static.
extern void *swift_task_enqueueGlobal_hook;

int vkb_install_global_enqueue_hook(void *hook) {
    void *expected = 0;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
