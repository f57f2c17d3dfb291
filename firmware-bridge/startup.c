// Start-up code of the bridge firmware for the STM32F405 (Cortex-M4): the vector table,
// the reset handler that copies .data and zeroes .bss before Swift runs, the interrupt
// entry points (they call into Swift), and the one system call newlib's malloc needs.
// Written for this project from the ARMv7-M Architecture Reference Manual (B1.5: vector
// table, exception entry) and RM0090 (table 61: STM32F405 interrupt positions).
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <malloc.h>

// Linker script symbols (link.ld).
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack, _heap_start, _heap_end;

// Swift entry points (Sources/Main.swift).
extern void bridge_main(void) __attribute__((noreturn));
extern void bridge_systick(void);
extern void bridge_usart1(void);

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);

// A fault or an unexpected interrupt: stop here; the independent watchdog resets the
// chip within a second and the next status frame reports reset cause "watchdog".
void Default_Handler(void) {
    for (;;) {
    }
}

static void SysTick_Handler(void) { bridge_systick(); }
static void USART1_IRQHandler(void) { bridge_usart1(); }

// 16 system exceptions and the STM32F405's 82 interrupts (RM0090 table 61).
#define VECTOR_COUNT (16 + 82)
__attribute__((section(".isr_vector"), used))
static void (*const vectors[VECTOR_COUNT])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = Reset_Handler,
    [2] = Default_Handler,   // NMI
    [3] = Default_Handler,   // HardFault
    [4] = Default_Handler,   // MemManage
    [5] = Default_Handler,   // BusFault
    [6] = Default_Handler,   // UsageFault
    [11] = Default_Handler,  // SVCall
    [12] = Default_Handler,  // DebugMonitor
    [14] = Default_Handler,  // PendSV
    [15] = SysTick_Handler,
    [16 + 37] = USART1_IRQHandler,
};

void Reset_Handler(void) {
    // Plain word loops; -fno-tree-loop-distribute-patterns keeps gcc from turning them
    // into calls to memcpy/memset before .data exists.
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    bridge_main();
}

// Interrupts that arrive while the main loop waits are taken at once (PRIMASK stays 0).
void bridge_wait_for_interrupt(void) { __asm volatile("wfi"); }

// The Embedded Swift runtime allocates with posix_memalign, which newlib-nano lacks:
// memalign does the work.
int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    void *memory = memalign(alignment, size);
    if (memory == NULL) return ENOMEM;
    *result = memory;
    return 0;
}

// newlib's malloc grows its heap through _sbrk: between the end of .bss and the stack
// reserve (link.ld). Out of heap is ENOMEM; Swift traps on that, and the watchdog resets.
void *_sbrk(ptrdiff_t increment) {
    static uint8_t *brk = (uint8_t *)&_heap_start;
    if (increment < 0 || (size_t)increment > (size_t)((uint8_t *)&_heap_end - brk)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *previous = brk;
    brk += increment;
    return previous;
}
