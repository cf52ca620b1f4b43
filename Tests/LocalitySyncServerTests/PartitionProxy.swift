import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay in front of PostgreSQL that can cut the processes behind it off, as a broken network
/// does: while partitioned, bytes are held in both directions — neither delivered nor refused, and
/// no connection is closed — so a process's queries simply hang. Healed, what was held flows on
/// (TCP's retransmission), and a side that closed meanwhile is closed for the other.
final class PartitionProxy: Sendable {
    let partitioned = Atomic<Bool>(false)
    private let channels = Mutex<[any Channel]>([])
    private let listener = Mutex<(any Channel)?>(nil)
    /// Connections whose other side closed while partitioned: closed when healed.
    private let closing = Mutex<[any Channel]>([])

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

    func partition() { partitioned.store(true, ordering: .sequentiallyConsistent) }

    func heal() {
        partitioned.store(false, ordering: .sequentiallyConsistent)
        for channel in channels.withLock({ $0 }) { channel.pipeline.fireUserInboundEventTriggered(Heal()) }
        for channel in closing.withLock({ list in defer { list = [] }; return list }) { channel.close(promise: nil) }
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

        var blocked: Bool { proxy.partitioned.load(ordering: .sequentiallyConsistent) }

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
            if blocked {
                proxy.closing.withLock { $0.append(partner) }
            } else {
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
