// Replay throughput for `make bench`: events per second through parse + map, in process.
//
// Builds an evemu recording of a VKB stick in memory (1 kHz reports with 8 axes moving,
// a bound button changing every 100 ms, as hid-input sends it: MSC_SCAN, EV_KEY,
// SYN_REPORT), then times what `vkb-bridge run --replay REC --speed 0` does with it:
// `EvemuRecording(parsing:)`, and a `ReplayDeviceSource` pass at speed 0 whose events go
// through a `ShiftMapper` under a lock, as the bridge applies them. Prints one JSON line.
//
// usage: ReplayThroughput [EVENTS] [ROUNDS]
import VKBInput
import VKBLoop
import VKBShift

#if canImport(Glibc)
import Glibc
#endif

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func hex4(_ v: Int) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}

/// An evemu 1.3 recording with about `events` events.
func makeRecording(events target: Int) -> [UInt8] {
    var text = """
        # EVEMU 1.3
        N: VKB-Sim © Alex Oz 2021  VKBsim Gladiator EVO  R  
        I: 0003 231d 0200 0111
        P: 00 00 00 00 00 00 00 00
        B: 00 0b 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 03 ff 00 03 00 00 00 00 00

        """
    let axes = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]
    var count = 0
    var tick = 0
    var pressed = false
    text.reserveCapacity(target * 30)
    while count < target {
        tick += 1
        let usec = tick * 1000
        let time = "\(usec / 1_000_000)." + String(String(1_000_000 + usec % 1_000_000).dropFirst())
        for (i, axis) in axes.enumerated() {
            let value = (tick * (i + 3) + i * 511) % 4096
            text += "E: \(time) 0003 \(hex4(axis)) \(value)\n"
        }
        if tick % 100 == 0 {
            pressed.toggle()
            text += "E: \(time) 0004 0004 \(0x90000 + 20)\n"
            text += "E: \(time) 0001 02c3 \(pressed ? 1 : 0)\n"
            count += 2
        }
        text += "E: \(time) 0000 0000 0\n"
        count += axes.count + 1
    }
    return Array(text.utf8)
}

let arguments = CommandLine.arguments
let eventTarget = arguments.count > 1 ? Int(arguments[1]) ?? 2_000_000 : 2_000_000
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let bytes = makeRecording(events: eventTarget)
let bindings = [Binding(bit: .shift1, code: 0x2c3, mode: .hold)]

struct Round {
    var parse: Double
    var map: Double
    var total: Double { parse + map }
}

var results: [Round] = []
var events = 0
var changes = 0
for _ in 0..<rounds {
    let t0 = nowSeconds()
    let recording: EvemuRecording
    do {
        recording = try EvemuRecording(parsing: bytes, path: "<generated>")
    } catch {
        print("{\"error\": \"\(error)\"}")
        exit(1)
    }
    let t1 = nowSeconds()
    var mapper = ShiftMapper(bindings: bindings)
    var roundChanges = 0
    mapper.attach(1, label: nil)
    // The daemon's path: the replay reader on an event loop, in batches per loop turn.
    let loop: EpollLoop
    do {
        loop = try EpollLoop()
    } catch {
        print("{\"error\": \"\(error)\"}")
        exit(1)
    }
    let source = ReplayDeviceSource(recording: recording, speed: 0)
    let reader = source.open(
        on: loop,
        events: { event in
            if event == .ended { return loop.stop() }
            let before = mapper.state
            if mapper.apply(event, from: 1) != before { roundChanges += 1 }
        },
        failed: { error in
            print("{\"error\": \"\(error)\"}")
            exit(1)
        })
    loop.run()
    reader.stop()
    let t2 = nowSeconds()
    events = recording.events.count
    changes = roundChanges
    results.append(Round(parse: t1 - t0, map: t2 - t1))
}

let sorted = results.sorted { $0.total < $1.total }
let median = sorted[sorted.count / 2]
let best = sorted[0]
print(
    "{\"events\": \(events), \"bytes\": \(bytes.count), \"state_changes\": \(changes), \"rounds\": \(rounds), "
        + "\"median_parse_s\": \(median.parse), \"median_map_s\": \(median.map), "
        + "\"median_events_per_s\": \(Double(events) / median.total), \"best_events_per_s\": \(Double(events) / best.total)}"
)
