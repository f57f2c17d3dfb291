// The board: the STM32F405's peripherals as the bridge uses them. Pins are for an
// STM32F405/F407 board that brings out PA0...PA10, PB12...PB15 and has an LED on PC1 (see
// README.md, "Wiring"); change them here for another board.
import Synchronization

@_extern(c, "bridge_wait_for_interrupt")
func bridge_wait_for_interrupt()

enum Board {
    /// Analog inputs: ADC1 channels 0...7 on PA0...PA7 (datasheet DS8626 table 7).
    static let channelCount = 8
    /// The status LED: PC1, active high.
    static let ledPort = GPIOPort.c
    static let ledPin = 1
    /// GPIO outputs 0...3 (sensor power, sample pump, two spare): PB12...PB15.
    static let outputPort = GPIOPort.b
    static let outputPins = [12, 13, 14, 15]
    /// The core clock: the 16 MHz internal RC oscillator (HSI), the clock out of reset;
    /// no PLL, so no crystal frequency to get wrong. 168 MHz in qemu, whose STM32F405
    /// model runs its SysTick from a fixed 168 MHz system clock (hw/arm/stm32f405_soc.c).
    static let siliconClockHertz: UInt32 = 16_000_000
    static let emulatorClockHertz: UInt32 = 168_000_000
    /// UART speed: 115,200 baud (USARTDIV = 16 MHz / (16 * 115200) = 8.68, BRR 0x8B,
    /// RM0090 section 30.3.4).
    static let baudRateRegister: UInt32 = 0x8B

    /// Set once at start, before interrupts: the chip is qemu's model, not silicon.
    nonisolated(unsafe) static var isEmulated = false

    /// Brings up clocks, pins, UART, ADC and SysTick, and reads the reset cause.
    ///
    /// - Returns: Why the chip started.
    static func start() -> BridgeResetCause {
        // On silicon HSIRDY (RCC_CR bit 1) is set out of reset; qemu 7.2 leaves the RCC
        // unimplemented and reads 0.
        isEmulated = RCC.cr.value == 0
        let cause = resetCause(RCC.csr.value)
        RCC.csr.modify(set: 1 << 24)  // RMVF: clear the reset flags for next time

        RCC.ahb1enr.modify(set: RCC.gpioAEnable | RCC.gpioBEnable | RCC.gpioCEnable)
        RCC.apb2enr.modify(set: RCC.usart1Enable | RCC.adc1Enable)

        for pin in 0..<channelCount { GPIOPort.a.setMode(.analog, pin: pin) }
        // PA9 USART1_TX, PA10 USART1_RX: alternate function 7 (DS8626 table 9).
        GPIOPort.a.setAlternateFunction(7, pin: 9)
        GPIOPort.a.setAlternateFunction(7, pin: 10)
        GPIOPort.a.setMode(.alternate, pin: 9)
        GPIOPort.a.setMode(.alternate, pin: 10)
        ledPort.setMode(.output, pin: ledPin)
        for pin in outputPins {
            outputPort.write(pin: pin, high: false)
            outputPort.setMode(.output, pin: pin)
        }

        USART1.brr.value = baudRateRegister
        USART1.cr1.value = USART1.cr1Enable | USART1.cr1TransmitEnable | USART1.cr1ReceiveEnable
            | USART1.cr1ReceiveInterrupt
        Core.interruptSetEnable(USART1.interruptNumber / 32).value = 1 << UInt32(USART1.interruptNumber % 32)

        // 84-cycle sample time (0b100) for channels 0...7, one conversion per start.
        var sampleTimes: UInt32 = 0
        for channel in 0..<channelCount { sampleTimes |= 0b100 << UInt32(3 * channel) }
        ADC1.smpr2.value = sampleTimes
        ADC1.sqr1.value = 0
        ADC1.cr2.value = ADC1.cr2On

        // SysTick every millisecond from the core clock (CLKSOURCE, TICKINT, ENABLE).
        let clock = isEmulated ? emulatorClockHertz : siliconClockHertz
        Core.sysTickReload.value = clock / 1000 - 1
        Core.sysTickCurrent.value = 0
        Core.sysTickControl.value = 0b111
        return cause
    }

    /// The reset cause from RCC_CSR's flags (RM0090 section 7.3.21); the pin flag is set
    /// with every other cause, so it is checked last.
    static func resetCause(_ csr: UInt32) -> BridgeResetCause {
        if csr & (1 << 29) != 0 || csr & (1 << 30) != 0 { return .watchdog }
        if csr & (1 << 28) != 0 { return .software }
        if csr & (1 << 27) != 0 || csr & (1 << 25) != 0 { return .powerOn }
        if csr & (1 << 26) != 0 { return .resetPin }
        return .unknown
    }

    /// Starts the independent watchdog: LSI (~32 kHz) / 32, reload 1000: about a second
    /// (0.7 to 1.9 s over the LSI's 17 to 47 kHz, DS8626 table 42). Once started it
    /// cannot be stopped (RM0090 section 21.3).
    static func startWatchdog() {
        IWDG.kr.value = IWDG.keyUnlock
        IWDG.pr.value = 3
        IWDG.rlr.value = 1000
        IWDG.kr.value = IWDG.keyRefresh
        IWDG.kr.value = IWDG.keyStart
    }

    static func refreshWatchdog() {
        IWDG.kr.value = IWDG.keyRefresh
    }

    static func setLED(_ on: Bool) {
        ledPort.write(pin: ledPin, high: on)
    }

    static func setOutput(_ index: Int, high: Bool) {
        outputPort.write(pin: outputPins[index], high: high)
    }

    /// One conversion of ADC1, waited for at most ~2000 polls (a conversion takes 96
    /// ADC clocks, about 200 core cycles): nil if it did not finish.
    static func convert(channel: Int) -> UInt16? {
        ADC1.sqr3.value = UInt32(channel)
        ADC1.cr2.modify(set: ADC1.cr2Start)
        for _ in 0..<2000 where ADC1.sr.value & ADC1.srEndOfConversion != 0 {
            return UInt16(truncatingIfNeeded: ADC1.dr.value & 0x0FFF)
        }
        return nil
    }

    /// Sends bytes, waiting for the transmit register to empty before each (bounded: a
    /// byte that cannot go out is dropped rather than stalling the bridge).
    static func transmit(_ bytes: [UInt8]) {
        for byte in bytes {
            var polls = 0
            while USART1.sr.value & USART1.srTransmitEmpty == 0 && polls < 100_000 { polls += 1 }
            USART1.dr.value = UInt32(byte)
        }
    }

    /// Waits (bounded) until the last byte has left the shift register.
    static func flushTransmitter() {
        var polls = 0
        while USART1.sr.value & USART1.srTransmitComplete == 0 && polls < 1_000_000 { polls += 1 }
    }

    /// Restarts the chip (SYSRESETREQ).
    static func reset() -> Never {
        Core.aircr.value = 0x05FA_0004
        while true { bridge_wait_for_interrupt() }
    }
}
