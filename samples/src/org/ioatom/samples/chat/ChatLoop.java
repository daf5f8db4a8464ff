package org.ioatom.samples.chat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.ioatom.samples.chat.Member.BLOCKED;
import static org.ioatom.samples.chat.Member.CLOSING;
import static org.ioatom.samples.chat.Member.LINGER;
import static org.ioatom.samples.chat.Member.NO_CHUNK;
import static org.ioatom.samples.chat.Member.OPEN;
import static org.ioatom.samples.chat.Member.PEER_EOF;
import static org.ioatom.samples.chat.Member.STALLED;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.ioatom.HandlerException;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.TimerHandler;

/**
 * One loop thread of chat-server: its poller, its listener (SO_REUSEPORT when there are several
 * loops) and its members. Each iteration: {@code await}, {@code dispatch} (read members' lines
 * into the shared log, write to members whose socket has room again, timers, ticks), then one
 * pass that delivers the log's new lines to every member of this loop and disconnects the ones
 * that fell too far behind.
 */
final class ChatLoop {
    private static final StructLayout LISTENER = MemoryLayout.structLayout(
            IoAtom.LAYOUT.withName("io"), IoTimer.LAYOUT.withName("pause"));
    private static final long LISTENER_PAUSE = LISTENER.byteOffset(MemoryLayout.PathElement.groupElement("pause"));
    private static final long ACCEPT_PAUSE_NANOS = 1_000_000_000L;
    /** How long a closing member may take to receive its last lines and close. */
    static final long CLOSE_NANOS = 2_000_000_000L;
    /** Reads per handler call before a busy member yields (Poller.requeue). */
    private static final int ROUNDS = 4;
    /** iovecs per writev. */
    private static final int IOVECS = 64;
    private static final int BATCH_BYTES = 256 * 1024;

    static final int NOTICE_NONE = 0;
    static final int NOTICE_LINE_TOO_LONG = 1;
    static final int NOTICE_IDLE = 2;
    static final int NOTICE_SHUTDOWN = 3;
    private static final String[] NOTICE_TEXT = {
        "", "* error: line too long\n", "* idle timeout\n", "* server shutting down\n"};

    private final ChatServer server;
    private final ChatLog log;
    private final int index;
    private final Arena arena = Arena.ofShared();
    private final Poller poller;
    private final MemorySegment readBuffer;
    private final MemorySegment iov;
    private final MemorySegment[] notices = new MemorySegment[NOTICE_TEXT.length];
    private final MemorySegment tickLine;
    private final Chunks chunks;
    private final IoHandler memberHandler = this::serve;
    private final IoHandler listenerHandler = this::accept;
    private final TimerHandler memberTimer = this::onTimer;
    private final TimerHandler resumeAccepting = this::resumeAccepting;
    /** Members by slot; grows by doubling up to the poller's capacity. */
    private MemorySegment[] members = new MemorySegment[64];
    private int[] freeSlots = new int[0];
    private int freeTop;
    private int highWater;
    private int open;
    private MemorySegment listener;
    private int listenFd = -1;
    private long seenHead = -1;
    private long seenRoomWanted;
    private boolean appended;
    private int ticksDone;
    private long stopDeadline;

    ChatLoop(ChatServer server, ChatLog log, int index) throws IOException {
        this.server = server;
        this.log = log;
        this.index = index;
        ChatServer.Options o = server.options();
        poller = Poller.open(o.kind(), o.maxConnections() + 1, o.maxConnections() + 1);
        readBuffer = arena.allocate(o.readBufferSize(), 64);
        iov = arena.allocate(IoSocket.iovecSize() * IOVECS, 8);
        for (int i = 0; i < NOTICE_TEXT.length; i++) {
            byte[] b = NOTICE_TEXT[i].getBytes(StandardCharsets.US_ASCII);
            notices[i] = arena.allocate(Math.max(1, b.length)).copyFrom(MemorySegment.ofArray(b));
        }
        tickLine = arena.allocate(32);
        chunks = new Chunks(arena, o.maxLine() + 1, o.readBufferSize());
    }

    Poller poller() {
        return poller;
    }

    int index() {
        return index;
    }

    /** On the loop thread: opens and registers the listener. @return its port */
    int listen(String address, boolean reusePort) throws IOException {
        listenFd = IoSocket.listen(address, IoSocket.DEFAULT_BACKLOG, reusePort);
        listener = arena.allocate(LISTENER);
        IoAtom.init(listener, listenFd);
        poller.add(listener, READ, listenerHandler);
        return IoSocket.localPort(listenFd);
    }

    void wakeup() {
        poller.wakeup();
    }

    /** Serves until stopped, then says goodbye to every member for at most {@link #CLOSE_NANOS}. */
    void run() throws IOException {
        boolean closingAll = false;
        while (true) {
            if (server.isStopping() && !closingAll) {
                closingAll = true;
                stopDeadline = System.nanoTime() + CLOSE_NANOS;
                stopListening();
                for (int i = 0; i < highWater; i++) {
                    MemorySegment m = members[i];
                    if (m != null && Member.has(m, OPEN) && !Member.has(m, CLOSING | LINGER)) {
                        startClosing(m, NOTICE_SHUTDOWN);
                    }
                }
            }
            if (closingAll && (open == 0 || System.nanoTime() >= stopDeadline)) {
                return;
            }
            poller.await(closingAll ? 50 : -1);
            try {
                poller.dispatch();
            } catch (HandlerException e) {
                handlerFailed(e);
            }
            pass();
        }
    }

    /** A handler or timer threw past its own handling: close the member it names, keep serving. */
    private void handlerFailed(HandlerException e) throws HandlerException {
        MemorySegment m = e.owner();
        if (m == null || m.byteSize() != Member.LAYOUT.byteSize() || !Member.has(m, OPEN)) {
            throw e;
        }
        System.err.println("chat-server: closing fd " + Member.fd(m) + ": " + e.getMessage());
        close(m);
    }

    /** Delivers new lines to every member that can take them; disconnects members too far behind. */
    private void pass() {
        long head;
        long payload;
        synchronized (log) { // one record boundary for both (other loops append meanwhile)
            head = log.head();
            payload = log.payloadHead();
        }
        long roomWanted = log.roomWanted();
        if (head == seenHead && roomWanted == seenRoomWanted) {
            return; // nothing new to deliver, and no writer waits for this loop's members
        }
        seenHead = head;
        seenRoomWanted = roomWanted;
        long lowest = head;
        for (int i = 0; i < highWater; i++) {
            MemorySegment m = members[i];
            if (m == null || !Member.has(m, OPEN) || Member.has(m, LINGER)) {
                continue;
            }
            try {
                if (!Member.has(m, BLOCKED)) {
                    deliver(m);
                }
                if (Member.has(m, OPEN) && !Member.has(m, LINGER)) {
                    long pending = payload - Member.payloadAtCursor(m) - Member.sent(m);
                    if (pending > server.options().maxPending() || head - Member.cursor(m) > server.options().maxBacklog()) {
                        System.err.println("chat-server: fd " + Member.fd(m) + " is too slow, disconnected ("
                                + pending + " bytes pending, " + (head - Member.cursor(m)) + " log bytes behind)");
                        close(m);
                    } else {
                        lowest = Math.min(lowest, Member.cursor(m));
                    }
                }
            } catch (IOException e) {
                failed(m, e);
            }
        }
        log.publishLowest(index, lowest);
        if (appended) {
            appended = false;
            log.wakeLoops(index);
        }
    }

    // ---- accepting ----

    private void accept(MemorySegment l, int events) throws IOException {
        while (listenFd >= 0) {
            int fd;
            try {
                fd = IoSocket.accept(listenFd);
            } catch (IoException e) {
                System.err.println("chat-server: accept failed, pausing for 1 s: " + e.getMessage());
                poller.set(listener, 0);
                poller.timers().scheduleAfter(listener, LISTENER_PAUSE, ACCEPT_PAUSE_NANOS, resumeAccepting);
                return;
            }
            if (fd == IoSocket.NO_MORE) {
                return;
            }
            if (!server.reserveConnection()) {
                quietClose(fd);
                continue;
            }
            MemorySegment m = newMember(fd);
            try {
                poller.add(m, Member.IO, READ, memberHandler);
            } catch (IllegalArgumentException | IllegalStateException e) {
                System.err.println("chat-server: cannot watch fd " + fd + ", closing it: " + e.getMessage());
                freeSlot(m);
                quietClose(fd);
                server.releaseConnection();
                continue;
            }
            open++;
            synchronized (log) { // both at one record boundary
                Member.setCursor(m, log.head(), log.payloadHead());
            }
            Member.setLastInput(m, poller.now());
            armIdle(m);
            try {
                IoSocket.setNoDelay(fd, true);
            } catch (IoException e) {
                failed(m, e);
            }
        }
    }

    private void resumeAccepting(MemorySegment l) throws IOException {
        poller.set(l, READ);
    }

    private MemorySegment newMember(int fd) {
        int slot;
        if (freeTop > 0) {
            slot = freeSlots[--freeTop];
        } else {
            slot = highWater++;
            if (slot == members.length) {
                members = Arrays.copyOf(members, 2 * slot);
            }
        }
        MemorySegment m = members[slot];
        if (m == null) {
            m = arena.allocate(Member.LAYOUT);
            members[slot] = m;
        }
        Member.init(m, slot, index << 24 | slot, fd);
        return m;
    }

    private void freeSlot(MemorySegment m) {
        Member.setFlags(m, 0);
        if (freeTop == freeSlots.length) {
            freeSlots = Arrays.copyOf(freeSlots, Math.max(64, 2 * freeTop));
        }
        freeSlots[freeTop++] = Member.slot(m);
    }

    // ---- one member ----

    /** The member's handler: on WRITE it delivers, on READ (or when requeued) it reads. */
    private void serve(MemorySegment m, int events) throws IOException {
        try {
            if (Member.has(m, LINGER)) {
                discard(m);
                return;
            }
            if (Member.has(m, BLOCKED | CLOSING) && !deliver(m)) {
                return; // still blocked, or closing
            }
            if (Member.has(m, OPEN) && !Member.has(m, CLOSING | LINGER)) {
                readLines(m);
            }
        } catch (IoException e) {
            failed(m, e);
        }
    }

    /** Reads and relays the member's lines, at most {@link #ROUNDS} reads, then yields. */
    private void readLines(MemorySegment m) throws IOException {
        int fd = Member.fd(m);
        for (int round = 0; round < ROUNDS; round++) {
            int kept = restoreInput(m);
            long n = 0;
            if (!Member.has(m, STALLED)) {
                n = IoSocket.read(fd, readBuffer, kept, readBuffer.byteSize() - kept);
                if (n == IoSocket.WOULD_BLOCK) {
                    keepInput(m, 0, kept);
                    return;
                }
                if (n == IoSocket.EOF) {
                    // An unterminated last line is dropped; what others said still goes out.
                    Member.add(m, PEER_EOF);
                    startClosing(m, NOTICE_NONE);
                    return;
                }
                Member.setLastInput(m, poller.now());
            }
            Member.clear(m, STALLED);
            int end = kept + (int) n;
            int consumed = relayLines(m, end);
            if (!Member.has(m, OPEN) || Member.has(m, CLOSING)) {
                return;
            }
            if (consumed < end && end - consumed > server.options().maxLine() && !Member.has(m, STALLED)) {
                startClosing(m, NOTICE_LINE_TOO_LONG); // no end of line within the limit
                return;
            }
            keepInput(m, consumed, end - consumed);
            if (Member.has(m, STALLED)) {
                log.wakeLoops(index); // their pass publishes how far their members got
                break; // the log is full: try again next dispatch
            }
        }
        poller.requeue(m, Member.IO); // more may wait in the socket: no new edge would tell
    }

    /** The chat itself: every complete line in the read buffer goes to the log. @return bytes consumed */
    private int relayLines(MemorySegment m, int end) {
        int maxLine = server.options().maxLine();
        int start = 0;
        for (int i = 0; i < end; i++) {
            if (readBuffer.get(JAVA_BYTE, i) != '\n') {
                continue;
            }
            int length = i + 1 - start;
            if (length - 1 > maxLine) {
                startClosing(m, NOTICE_LINE_TOO_LONG);
                return start;
            }
            if (!log.append(readBuffer, start, length, Member.id(m))) {
                Member.add(m, STALLED);
                return start;
            }
            appended = true;
            start = i + 1;
        }
        return start;
    }

    /** Moves the member's kept input to the start of the read buffer. @return its length */
    private int restoreInput(MemorySegment m) {
        int kept = Member.inLength(m);
        if (kept > 0) {
            int chunk = Member.inChunk(m);
            MemorySegment.copy(chunks.segment(chunk), 0, readBuffer, 0, kept);
            chunks.release(chunk);
            Member.setInput(m, NO_CHUNK, 0);
        }
        return kept;
    }

    private void keepInput(MemorySegment m, int from, int length) {
        if (length == 0) {
            return;
        }
        int chunk = chunks.take(length);
        MemorySegment.copy(readBuffer, from, chunks.segment(chunk), 0, length);
        Member.setInput(m, chunk, length);
    }

    /**
     * Writes the member's backlog: the log's lines after its cursor, but its own, up to the head
     * (or up to closeAt, then the notice, when closing).
     *
     * @return whether the backlog is gone and the member is not closing
     */
    private boolean deliver(MemorySegment m) throws IOException {
        if (!Member.has(m, OPEN)) {
            return false;
        }
        boolean closing = Member.has(m, CLOSING);
        long limit = closing ? Member.closeAt(m) : log.head();
        int fd = Member.fd(m);
        int self = Member.id(m);
        MemorySegment ring = log.ring();
        while (true) {
            // Gather the next lines for one writev.
            long p = Member.cursor(m);
            int skipSent = Member.sent(m);
            int count = 0;
            long bytes = 0;
            while (p < limit && count < IOVECS && bytes < BATCH_BYTES) {
                long wrap = log.wrapAt(p);
                if (wrap > 0) {
                    p += wrap;
                    continue;
                }
                int length = log.length(p);
                if (log.sender(p) != self) {
                    IoSocket.iovec(iov, count++, ring, log.lineOffset(p) + skipSent, length - skipSent);
                    bytes += length - skipSent;
                }
                skipSent = 0;
                p += ChatLog.HEADER + length;
            }
            if (count == 0) {
                advance(m, limit, 0); // only own lines and wraps were left
                break;
            }
            long n = IoSocket.writev(fd, iov, count);
            if (n > 0) {
                advance(m, limit, n);
            }
            if (n < bytes) {
                return block(m);
            }
        }
        if (!closing) {
            if (Member.has(m, BLOCKED)) {
                Member.clear(m, BLOCKED);
                poller.set(m, Member.IO, READ);
            }
            return true;
        }
        // Closing: the notice, then shut our side and wait for the peer's end.
        MemorySegment notice = notices[Member.notice(m)];
        int total = NOTICE_TEXT[Member.notice(m)].length();
        int done = Member.noticeSent(m);
        if (done < total) {
            long n = IoSocket.write(fd, notice, done, total - done);
            if (n > 0) {
                done += (int) n;
                Member.setNotice(m, Member.notice(m), done);
            }
            if (done < total) {
                return block(m);
            }
        }
        if (Member.has(m, PEER_EOF)) {
            close(m);
            return false;
        }
        IoSocket.shutdownOutput(fd);
        Member.setFlags(m, OPEN | LINGER);
        poller.set(m, Member.IO, READ);
        discard(m);
        return false;
    }

    private boolean block(MemorySegment m) throws IOException {
        if (!Member.has(m, BLOCKED)) {
            Member.add(m, BLOCKED);
            poller.set(m, Member.IO, WRITE);
        }
        return false;
    }

    /** Moves the cursor over {@code n} bytes written, and over own lines and wraps after them. */
    private void advance(MemorySegment m, long limit, long n) {
        long p = Member.cursor(m);
        long payload = Member.payloadAtCursor(m);
        int sent = Member.sent(m);
        int self = Member.id(m);
        while (p < limit) {
            long wrap = log.wrapAt(p);
            if (wrap > 0) {
                p += wrap;
                continue;
            }
            int length = log.length(p);
            if (log.sender(p) != self) {
                if (n == 0) {
                    break;
                }
                long take = Math.min(length - sent, n);
                n -= take;
                sent += (int) take;
                if (sent < length) {
                    break;
                }
            }
            payload += length;
            sent = 0;
            p += ChatLog.HEADER + length;
        }
        Member.setCursor(m, p, payload);
        Member.setSent(m, sent);
    }

    /** Stops reading; delivers up to now, then the notice (if any); then closes. */
    void startClosing(MemorySegment m, int notice) {
        dropInput(m);
        Member.add(m, CLOSING);
        Member.clear(m, STALLED);
        Member.setCloseAt(m, log.head());
        Member.setNotice(m, notice, 0);
        poller.timers().scheduleAfter(m, Member.TIMER, CLOSE_NANOS, memberTimer);
        try {
            if (!Member.has(m, BLOCKED)) {
                poller.set(m, Member.IO, 0);
                deliver(m);
            }
        } catch (IOException e) {
            failed(m, e);
        }
    }

    private void armIdle(MemorySegment m) {
        long idle = server.options().idleNanos();
        if (idle > 0) {
            poller.timers().schedule(m, Member.TIMER, Member.lastInput(m) + idle, memberTimer);
        }
    }

    /** The member's timer: its idle deadline (maybe moved by input since), or the end of its close. */
    private void onTimer(MemorySegment m) {
        if (Member.has(m, CLOSING | LINGER)) {
            close(m);
            return;
        }
        long deadline = Member.lastInput(m) + server.options().idleNanos();
        if (poller.now() < deadline) {
            poller.timers().schedule(m, Member.TIMER, deadline, memberTimer);
            return;
        }
        startClosing(m, NOTICE_IDLE);
    }

    private void discard(MemorySegment m) throws IOException {
        for (int i = 0; i < 16; i++) {
            long n = IoSocket.read(Member.fd(m), readBuffer, 0, readBuffer.byteSize());
            if (n == IoSocket.WOULD_BLOCK) {
                return;
            }
            if (n == IoSocket.EOF) {
                break;
            }
        }
        close(m);
    }

    private void failed(MemorySegment m, IOException e) {
        if (!(e instanceof IoException io) || !io.errnoName().matches("ECONNRESET|EPIPE")) {
            System.err.println("chat-server: closing fd " + Member.fd(m) + ": " + e.getMessage());
        }
        close(m);
    }

    private void dropInput(MemorySegment m) {
        int chunk = Member.inChunk(m);
        if (chunk != NO_CHUNK) {
            chunks.release(chunk);
            Member.setInput(m, NO_CHUNK, 0);
        }
    }

    void close(MemorySegment m) {
        if (!Member.has(m, OPEN)) {
            return;
        }
        int fd = Member.fd(m);
        try {
            if (IoAtom.isRegistered(m, Member.IO)) {
                poller.remove(m, Member.IO);
            }
        } catch (IOException | RuntimeException e) {
            // closed below either way
        }
        try {
            poller.timers().cancel(m, Member.TIMER);
        } catch (RuntimeException e) {
            // the poller is closed
        }
        quietClose(fd);
        dropInput(m);
        freeSlot(m);
        open--;
        server.releaseConnection();
    }

    // ---- ticks (the task runs on this loop; ChatServer's tick thread hands it off) ----

    /** Appends the ticks posted so far ({@code * tick N}); one that finds no room waits for the next. */
    void appendTicks(AtomicLong posted) {
        while (ticksDone < posted.get()) {
            int n = ticksDone + 1;
            String text = "* tick " + n + "\n";
            int length = text.length();
            for (int i = 0; i < length; i++) {
                tickLine.set(JAVA_BYTE, i, (byte) text.charAt(i));
            }
            if (!log.append(tickLine, 0, length, ChatLog.SERVER)) {
                return;
            }
            ticksDone = n;
            appended = true;
        }
    }

    // ---- the end ----

    private void stopListening() {
        if (listenFd < 0) {
            return;
        }
        try {
            if (IoAtom.isRegistered(listener, 0)) {
                poller.remove(listener);
            }
            poller.timers().cancel(listener, LISTENER_PAUSE);
        } catch (IOException | RuntimeException e) {
            // closing anyway
        }
        quietClose(listenFd);
        listenFd = -1;
    }

    /** Closes what is left, the poller and the arena (on the loop thread). */
    void shutdown() {
        stopListening();
        for (int i = 0; i < highWater; i++) {
            MemorySegment m = members[i];
            if (m != null && Member.has(m, OPEN)) {
                close(m);
            }
        }
        poller.close();
        arena.close();
    }

    static void quietClose(int fd) {
        try {
            IoSocket.close(fd);
        } catch (IoException e) {
            // nothing left to do
        }
    }
}
