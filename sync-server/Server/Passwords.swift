import HummingbirdBcrypt

/// Passwords are stored only as bcrypt hashes.
public enum Passwords {
    public static func hash(_ password: String, cost: UInt8 = 12) -> String { Bcrypt.hash(password, cost: cost) }
    public static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }
}
