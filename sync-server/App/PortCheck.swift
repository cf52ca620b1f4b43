#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether `host:port` can be listened on, asked of the system before the server creates anything.
enum PortCheck {
    /// Why the address cannot be used, or nil if it can (port 0 always can).
    static func problem(host: String, port: Int) -> String? {
        guard port != 0 else { return nil }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return "cannot listen on \(host): it is not an address or a host name this machine can resolve"
        }
        defer { freeaddrinfo(list) }
        let socketFD = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard socketFD >= 0 else { return nil }  // let the server itself report anything stranger
        defer { close(socketFD) }
        var yes: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(socketFD, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let code = errno
            if code == EADDRINUSE {
                return "port \(port) on \(host) is already in use by another program; stop it, or choose another with --port (or LOCALITY_SYNC_PORT)"
            }
            if code == EACCES {
                return "port \(port) on \(host) needs privileges this user does not have; choose a port above 1023 with --port"
            }
            if code == EADDRNOTAVAIL {
                return "\(host) is not an address of this machine; use --host 127.0.0.1, or 0.0.0.0 to listen on all"
            }
            return "cannot listen on \(host):\(port): \(String(cString: strerror(code)))"
        }
        return nil
    }
}
