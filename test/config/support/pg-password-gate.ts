import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

/**
 * True when `password` matches a PostgreSQL SCRAM-SHA-256 verifier from pg_authid
 * (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), the check the
 * server itself makes (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key"))).
 */
export function matchesScramVerifier(password: string, verifier: string): boolean {
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):/.exec(verifier)
  if (!match) return false
  const salted = pbkdf2Sync(
    password.normalize('NFKC'),
    Buffer.from(match[2]!, 'base64'),
    Number(match[1]),
    32,
    'sha256',
  )
  const storedKey = createHash('sha256')
    .update(createHmac('sha256', salted).update('Client Key').digest())
    .digest()
  const expected = Buffer.from(match[3]!, 'base64')
  return expected.length === storedKey.length && timingSafeEqual(expected, storedKey)
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`)
  const head = Buffer.alloc(5)
  head.write('E')
  head.writeInt32BE(fields.length + 4, 1)
  return Buffer.concat([head, fields])
}

interface Inbox {
  buf: Buffer
  wake: (() => void) | undefined
  closed: boolean
}

/** Buffers everything the socket sends until the relay takes over. */
function inbox(socket: Socket): { box: Inbox; detach(): void } {
  const box: Inbox = { buf: Buffer.alloc(0), wake: undefined, closed: false }
  const onData = (chunk: Buffer) => {
    box.buf = Buffer.concat([box.buf, chunk])
    box.wake?.()
  }
  const onClose = () => {
    box.closed = true
    box.wake?.()
  }
  socket.on('data', onData)
  socket.on('close', onClose)
  return { box, detach: () => socket.off('data', onData).off('close', onClose) }
}

/** The next framed message (`lengthOffset` 0 for startup packets, 1 for typed ones). */
async function readMessage(box: Inbox, lengthOffset: 0 | 1): Promise<Buffer> {
  for (;;) {
    if (box.buf.length >= lengthOffset + 4) {
      const total = box.buf.readInt32BE(lengthOffset) + lengthOffset
      if (box.buf.length >= total) {
        const message = box.buf.subarray(0, total)
        box.buf = box.buf.subarray(total)
        return message
      }
    }
    if (box.closed) throw new Error('client went away')
    await new Promise<void>((resolve) => {
      box.wake = resolve
    })
  }
}

function startupUser(startup: Buffer): string {
  const parts = startup.subarray(8).toString('utf8').split('\0')
  return parts[parts.indexOf('user') + 1] ?? ''
}

export interface PasswordGate {
  port: number
  /** Every authentication attempt: who, and whether the password was right. */
  attempts: Array<{ user: string; ok: boolean }>
  close(): Promise<void>
}

/**
 * A front door for a PostgreSQL that trusts local connections (the test machine's
 * does): it asks each new connection for a cleartext password, checks it against
 * `verify` (the role's current verifier in pg_authid), and only then relays the
 * connection to the server. With it, a wrong password fails as it would in
 * production, so a rotation test can fail.
 */
export async function startPasswordGate(
  upstream: { host: string; port: number },
  verify: (user: string, password: string) => Promise<boolean>,
): Promise<PasswordGate> {
  const attempts: PasswordGate['attempts'] = []
  const sockets = new Set<Socket>()
  const server = createServer(async (client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => {})
    const { box, detach } = inbox(client)
    try {
      let startup = await readMessage(box, 0)
      while ([SSL_REQUEST, GSSENC_REQUEST].includes(startup.readInt32BE(4))) {
        client.write('N')
        startup = await readMessage(box, 0)
      }
      const user = startupUser(startup)
      const ask = Buffer.alloc(9)
      ask.write('R')
      ask.writeInt32BE(8, 1)
      ask.writeInt32BE(3, 5) // AuthenticationCleartextPassword
      client.write(ask)
      const reply = await readMessage(box, 1)
      const password = reply.subarray(5, reply.length - 1).toString('utf8')
      const ok = reply[0] === 0x70 && (await verify(user, password))
      attempts.push({ user, ok })
      if (!ok) {
        client.end(errorResponse('28P01', `password authentication failed for user "${user}"`))
        return
      }
      const server = connect(upstream.port, upstream.host)
      sockets.add(server)
      server.on('close', () => sockets.delete(server))
      server.on('error', () => client.destroy())
      server.write(startup)
      detach()
      if (box.buf.length > 0) server.write(box.buf)
      client.pipe(server).pipe(client)
    } catch {
      client.destroy()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    attempts,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
