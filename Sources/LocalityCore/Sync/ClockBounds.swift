import Foundation

/// How far a change's dates may stray from the server's clock. Devices' clocks are not trusted for
/// ordering (the hybrid logical clock is), but they date what people see — when a need was
/// recorded, when a payment was made — so a date no honest device could produce is refused.
public enum ClockBounds {
    /// A change may be dated at most this far ahead of the server's clock.
    public static let ahead: Int64 = 86_400_000
    /// A change may be dated at most this far before the server's clock: a device may stay
    /// offline for weeks, but not for this long.
    public static let behind: Int64 = 90 * 86_400_000
    /// A change may not be dated this much before its device was registered (the device could not
    /// have made it then).
    public static let beforeRegistration: Int64 = 86_400_000

    /// Why a mutation's dates cannot be right, or nil if they can.
    public static func problem(with mutation: Mutation, now: Date, deviceRegisteredAt: Date?) -> LocalityError? {
        let server = Timestamps.milliseconds(now)
        for (millis, what) in [(mutation.hlc.wallMillis, "this change is dated"), (Timestamps.milliseconds(mutation.createdAt), "this change says it was made")] {
            if millis > server + ahead {
                return .invalidInput(
                    "\(what) \(Timestamps.day(Date(milliseconds: millis))), more than a day ahead of the server's clock "
                        + "(\(Timestamps.day(now))): the device's clock was wrong when it was made; set the device's date and time, then make it again")
            }
            if millis < server - behind {
                return .invalidInput(
                    "\(what) \(Timestamps.day(Date(milliseconds: millis))), more than 90 days before the server's clock "
                        + "(\(Timestamps.day(now))): the device's clock was wrong when it was made; set the device's date and time, then make it again")
            }
            if let registered = deviceRegisteredAt, millis < Timestamps.milliseconds(registered) - beforeRegistration {
                return .invalidInput(
                    "\(what) \(Timestamps.day(Date(milliseconds: millis))), before this device was registered on "
                        + "\(Timestamps.day(registered)): the device's clock was wrong when it was made; set the device's date and time, then make it again")
            }
        }
        return nil
    }

    /// The hybrid logical clock a device continues from: its last reading, unless that reading is
    /// further ahead of the device's clock than any server accepts — a reading taken while the
    /// clock was wrong, which would otherwise keep every new change refused until real time caught
    /// up. The changes made while it was wrong are refused by the server, each with the reason.
    public static func continuing(from last: HLCTimestamp?, wallMillis: Int64) -> HLCTimestamp? {
        guard let last, last.wallMillis > wallMillis + ahead else { return last }
        return nil
    }
}
