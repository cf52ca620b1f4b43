import HTTPTypes
import NIOHTTPTypes
import HummingbirdCore
import NIOCore
import Synchronization

/// Limits on what a connection may hold: a client that sends half a request and waits, or opens
/// connection after connection, must not tie the server up.
public struct ConnectionLimits: Sendable {
    /// From a connection's first byte (or the end of its last response) to a request's whole head.
    public var headerTimeout: TimeAmount
    /// From a request's head to the end of its body.
    public var bodyTimeout: TimeAmount
    /// A connection with nothing read or written for this long is closed.
    public var idleTimeout: TimeAmount
    /// The most connections open at once; more are closed as soon as they are accepted.
    public var maxConnections: Int

    public init(
        headerTimeout: TimeAmount = .seconds(10), bodyTimeout: TimeAmount = .seconds(60), idleTimeout: TimeAmount = .seconds(60),
        maxConnections: Int = 512
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}

/// How many connections are open, shared by every connection's guard.
final class ConnectionCount: Sendable {
    let open = Atomic<Int>(0)
}

/// Closes a connection whose request head or body does not arrive in time, and a connection
/// accepted beyond the limit.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let count: ConnectionCount
    private var deadline: Scheduled<Void>?
    private var counted = false

    init(limits: ConnectionLimits, count: ConnectionCount) {
        self.limits = limits
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let open = count.open.wrappingAdd(1, ordering: .relaxed).newValue
        counted = true
        guard open <= limits.maxConnections else {
            context.close(promise: nil)
            return
        }
        arm(limits.headerTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if counted {
            count.open.wrappingSubtract(1, ordering: .relaxed)
            counted = false
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(limits.bodyTimeout, context: context)
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            // The next request on this connection has its own time to arrive.
            arm(limits.headerTimeout, context: context)
        }
        context.write(data, promise: promise)
    }

    private func arm(_ timeout: TimeAmount, context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}

extension ConnectionLimits {
    /// The HTTP/1 server with these limits.
    func server() -> HTTPServerBuilder {
        let count = ConnectionCount()
        return .http1(configuration: .init(
            additionalChannelHandlers: [ConnectionGuard(limits: self, count: count)], idleTimeout: idleTimeout))
    }
}
