import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay in front of PostgreSQL that can cut the processes behind it off, as a broken network
/// does: while partitioned, bytes are held in both directions — neither delivered nor refused, and
/// no connection is closed — so a process's queries simply hang. Healed, what was held flows on
/// (TCP's retransmission), and a side that closed meanwhile is closed for the other.
final class PartitionProxy: Sendable {
    private struct State {
        var partitioned = false
        /// Connections whose other side closed while partitioned: closed when healed.
        var closing: [any Channel] = []
    }
    /// One lock for both, so a side closing as the partition heals is either closed by the heal or
    /// closed at once — never left open for good.
    private let state = Mutex(State())
    private let channels = Mutex<[any Channel]>([])
    private let listener = Mutex<(any Channel)?>(nil)

    var partitioned: Bool { state.withLock { $0.partitioned } }

    /// Healed: what was held is delivered.
    struct Heal: Sendable {}
    /// The relay's other side, once connected.
    struct Connected: Sendable { let partner: any Channel }

    /// Listens on a free loopback port, relaying to `host:port`; answers the port.
    func start(to host: String, port: Int) async throws -> Int {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { [self] accepted in
                register(accepted)
                do { try accepted.pipeline.syncOperations.addHandler(Relay(proxy: self)) } catch {
                    return accepted.eventLoop.makeFailedFuture(error)
                }
                ClientBootstrap(group: group)
                    .channelInitializer { [self] outbound in
                        register(outbound)
                        do { try outbound.pipeline.syncOperations.addHandler(Relay(proxy: self)) } catch {
                            return outbound.eventLoop.makeFailedFuture(error)
                        }
                        outbound.pipeline.fireUserInboundEventTriggered(Connected(partner: accepted))
                        return outbound.eventLoop.makeSucceededVoidFuture()
                    }
                    .connect(host: host, port: port)
                    .whenComplete { result in
                        switch result {
                        case .success(let outbound): accepted.pipeline.fireUserInboundEventTriggered(Connected(partner: outbound))
                        case .failure: accepted.close(promise: nil)
                        }
                    }
                return accepted.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        listener.withLock { $0 = server }
        return server.localAddress?.port ?? 0
    }

    func partition() { state.withLock { $0.partitioned = true } }

    func heal() {
        let closing = state.withLock { state in
            state.partitioned = false
            defer { state.closing = [] }
            return state.closing
        }
        for channel in channels.withLock({ $0 }) { channel.pipeline.fireUserInboundEventTriggered(Heal()) }
        for channel in closing { channel.close(promise: nil) }
    }

    /// Closes `channel` when the partition heals, or now if it has: answers whether it was deferred.
    fileprivate func closeWhenHealed(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard state.partitioned else { return false }
            state.closing.append(channel)
            return true
        }
    }

    func stop() {
        listener.withLock { $0 }?.close(promise: nil)
        for channel in channels.withLock({ $0 }) { channel.close(promise: nil) }
    }

    private func register(_ channel: any Channel) { channels.withLock { $0.append(channel) } }

    /// One direction: reads from its channel, writes to its partner — unless partitioned.
    final class Relay: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let proxy: PartitionProxy
        var partner: (any Channel)?
        var held: [ByteBuffer] = []

        init(proxy: PartitionProxy) { self.proxy = proxy }

        var blocked: Bool { proxy.partitioned }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            held.append(unwrapInboundIn(data))
            deliver()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let connected = event as? Connected { partner = connected.partner }
            deliver()
        }

        func channelInactive(context: ChannelHandlerContext) {
            guard let partner else { return }
            if !proxy.closeWhenHealed(partner) {
                deliver()
                partner.close(promise: nil)
            }
        }

        private func deliver() {
            guard let partner, !blocked else { return }
            for buffer in held { partner.write(buffer, promise: nil) }
            held = []
            partner.flush()
        }
    }
}
