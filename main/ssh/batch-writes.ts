/**
 * Fewer, larger writes for HTTP over SSH channels, and a stream undici can treat as its socket.
 *
 * Every write to an ssh2 channel becomes one SSH packet (encrypted, MAC'd, one `write` on the TCP
 * socket), and each packet costs sshd a read, a decrypt and a write to the appliance-side socket.
 * undici writes a request's head and body as two writes between cork() and uncork(); ssh2's channel
 * has no `_writev`, so that was two packets. Here a request becomes one channel write, and the
 * packets of all channels written in one turn of the event loop leave in one TCP write.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';

/**
 * Corks the SSH connection's TCP socket for the rest of the current event-loop turn, so the packets
 * written meanwhile (one per channel write) go out in a single writev.
 */
export class TickWriteBatcher {
  private corked = false;
  private readonly flush = (): void => {
    this.corked = false;
    // A socket destroyed meanwhile drops its corked buffers with it; uncork on it is harmless.
    this.socket.uncork();
  };

  constructor(private readonly socket: Socket) {}

  /** Call before writing to any channel of this connection. */
  hold(): void {
    if (this.corked || this.socket.destroyed) return;
    this.corked = true;
    this.socket.cork();
    // setImmediate, not nextTick: responses that arrived in one read from the socket are all
    // handled (and their follow-up requests written) before the batch leaves.
    setImmediate(this.flush);
  }
}

/**
 * A Duplex over one forwardOut channel that behaves like the socket undici expects: writes of one
 * tick become one channel write, `destroy()` closes the channel and emits 'close' at once (ssh2's
 * own `Channel.destroy` ignores the error, never sets `destroyed` and emits 'close' only when the
 * appliance confirms), and the channel's end/close/error reach undici as a socket's would.
 */
export class ChannelSocket extends Duplex {
  private channelClosed = false;

  constructor(
    private readonly channel: ClientChannel,
    private readonly batcher: TickWriteBatcher | null,
  ) {
    // allowHalfOpen false: when the appliance side ends, so do we (as a net.Socket does by default).
    super({ allowHalfOpen: false, decodeStrings: true });
    channel.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause();
    });
    channel.on('end', () => this.push(null));
    channel.on('error', (error: Error) => this.destroy(error));
    channel.on('close', () => {
      this.channelClosed = true;
      // The peer closed (or the SSH connection went): nothing more can be written, but what was
      // received is still delivered (a close-delimited body ends exactly here) before 'close'.
      this.push(null);
      if (this.readableEnded) this.destroy();
      else this.once('end', () => this.destroy());
    });
  }

  override _read(): void {
    this.channel.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.send(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.channel.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.channelClosed) {
      this.channelClosed = true;
      // CHANNEL_CLOSE to the appliance; its confirmation is not waited for (the data that may
      // still arrive keeps flowing into the channel and is dropped with it).
      this.channel.close();
    }
    callback(error);
  }

  private send(data: Buffer, callback: (error?: Error | null) => void): void {
    if (this.channelClosed) {
      callback(new Error('SSH channel closed'));
      return;
    }
    this.batcher?.hold();
    // The callback waits for the channel to accept more (SSH window and stream buffer), so
    // backpressure reaches undici; a channel closed meanwhile ends this stream through 'close'.
    if (this.channel.write(data)) callback();
    else this.channel.once('drain', () => callback());
  }
}

/** The channel as the socket undici's connector hands back (undici types it as net.Socket). */
export function asUndiciSocket(channel: ClientChannel, batcher: TickWriteBatcher | null): Socket {
  return new ChannelSocket(channel, batcher) as unknown as Socket;
}
