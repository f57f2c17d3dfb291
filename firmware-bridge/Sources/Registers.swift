// Memory-mapped registers of the STM32F405 and the Cortex-M4 core that the bridge uses.
// Addresses and bit positions from ST's RM0090 reference manual (rev. 19; the section is
// given at each block) and, for the core, the ARMv7-M Architecture Reference Manual.
import _Volatile

/// One 32-bit register at a fixed address.
struct Register {
    let address: UInt

    @inline(__always)
    var value: UInt32 {
        get { VolatileMappedRegister<UInt32>(unsafeBitPattern: address).load() }
        nonmutating set { VolatileMappedRegister<UInt32>(unsafeBitPattern: address).store(newValue) }
    }

    /// Clears the bits of `clear`, then sets those of `set`, in one read-modify-write.
    @inline(__always)
    func modify(clear: UInt32 = 0, set: UInt32 = 0) {
        value = (value & ~clear) | set
    }
}

/// Reset and clock control (RM0090 section 7.3).
enum RCC {
    static let base: UInt = 0x4002_3800
    /// Clock control: HSION bit 0, HSIRDY bit 1; 0x0000_XX83 out of reset on silicon.
    static let cr = Register(address: base + 0x00)
    static let ahb1enr = Register(address: base + 0x30)
    static let apb2enr = Register(address: base + 0x44)
    /// Control and status: reset flags in bits 31..25, RMVF (clear them) bit 24.
    static let csr = Register(address: base + 0x74)

    static let gpioAEnable: UInt32 = 1 << 0
    static let gpioBEnable: UInt32 = 1 << 1
    static let gpioCEnable: UInt32 = 1 << 2
    static let usart1Enable: UInt32 = 1 << 4
    static let adc1Enable: UInt32 = 1 << 8
}

/// One GPIO port (RM0090 section 8.4).
struct GPIOPort {
    let base: UInt

    static let a = GPIOPort(base: 0x4002_0000)
    static let b = GPIOPort(base: 0x4002_0400)
    static let c = GPIOPort(base: 0x4002_0800)

    var moder: Register { Register(address: base + 0x00) }
    var odr: Register { Register(address: base + 0x14) }
    /// Bit set/reset: bits 0..15 set pins, bits 16..31 reset them.
    var bsrr: Register { Register(address: base + 0x18) }
    var afrh: Register { Register(address: base + 0x24) }

    enum Mode: UInt32 {
        case input = 0, output = 1, alternate = 2, analog = 3
    }

    func setMode(_ mode: Mode, pin: Int) {
        moder.modify(clear: 3 << UInt32(2 * pin), set: mode.rawValue << UInt32(2 * pin))
    }

    /// Selects alternate function `function` for a pin of 8...15.
    func setAlternateFunction(_ function: UInt32, pin: Int) {
        let shift = UInt32(4 * (pin - 8))
        afrh.modify(clear: 0xF << shift, set: function << shift)
    }

    func write(pin: Int, high: Bool) {
        bsrr.value = high ? 1 << UInt32(pin) : 1 << UInt32(pin + 16)
    }
}

/// USART1 (RM0090 section 30.6).
enum USART1 {
    static let base: UInt = 0x4001_1000
    static let sr = Register(address: base + 0x00)
    static let dr = Register(address: base + 0x04)
    static let brr = Register(address: base + 0x08)
    static let cr1 = Register(address: base + 0x0C)

    static let srOverrun: UInt32 = 1 << 3
    static let srReceiveNotEmpty: UInt32 = 1 << 5
    static let srTransmitComplete: UInt32 = 1 << 6
    static let srTransmitEmpty: UInt32 = 1 << 7
    static let cr1ReceiveEnable: UInt32 = 1 << 2
    static let cr1TransmitEnable: UInt32 = 1 << 3
    static let cr1ReceiveInterrupt: UInt32 = 1 << 5
    static let cr1Enable: UInt32 = 1 << 13
    /// USART1's position in the NVIC (RM0090 table 61).
    static let interruptNumber = 37
}

/// ADC1 (RM0090 section 13.13).
enum ADC1 {
    static let base: UInt = 0x4001_2000
    static let sr = Register(address: base + 0x00)
    static let cr2 = Register(address: base + 0x08)
    static let smpr2 = Register(address: base + 0x10)
    static let sqr1 = Register(address: base + 0x2C)
    static let sqr3 = Register(address: base + 0x34)
    static let dr = Register(address: base + 0x4C)

    static let srEndOfConversion: UInt32 = 1 << 1
    static let cr2On: UInt32 = 1 << 0
    static let cr2Start: UInt32 = 1 << 30
}

/// The independent watchdog, clocked by the ~32 kHz LSI (RM0090 section 21.4).
enum IWDG {
    static let base: UInt = 0x4000_3000
    static let kr = Register(address: base + 0x00)
    static let pr = Register(address: base + 0x04)
    static let rlr = Register(address: base + 0x08)

    static let keyUnlock: UInt32 = 0x5555
    static let keyRefresh: UInt32 = 0xAAAA
    static let keyStart: UInt32 = 0xCCCC
}

/// Core peripherals (ARMv7-M ARM: B3.3 SysTick, B3.4 NVIC, B3.2 SCB).
enum Core {
    static let sysTickControl = Register(address: 0xE000_E010)
    static let sysTickReload = Register(address: 0xE000_E014)
    static let sysTickCurrent = Register(address: 0xE000_E018)
    /// NVIC interrupt set-enable registers, 32 interrupts each.
    static func interruptSetEnable(_ index: Int) -> Register { Register(address: 0xE000_E100 + UInt(4 * index)) }
    /// Application interrupt and reset control: VECTKEY 0x05FA in bits 31..16, SYSRESETREQ bit 2.
    static let aircr = Register(address: 0xE000_ED0C)
}
