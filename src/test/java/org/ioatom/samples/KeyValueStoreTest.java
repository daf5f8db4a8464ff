package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.Ascii;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** resp-server's off-heap store on its own, against a HashMap as the model, with a poller for the keys' timers. */
@Timeout(60)
class KeyValueStoreTest {

    @Test
    void storeAgreesWithAHashMapThroughRandomSetsDeletesAndExpiriesThatStayScheduled() throws IOException {
        try (Arena arena = Arena.ofConfined(); Poller poller = Poller.open(PollerKind.ANY, 16, 300)) {
            KeyValueStore store = new KeyValueStore(arena, 300, poller.timers());
            MemorySegment buf = arena.allocate(64);
            Map<String, String> model = new HashMap<>();
            Set<String> expiring = new HashSet<>();
            long later = System.nanoTime() + TimeUnit.HOURS.toNanos(1);
            Random random = new Random(7);
            for (int i = 0; i < 50_000; i++) {
                String key = "k" + random.nextInt(400);
                int keyLength = put(buf, 0, key);
                int action = random.nextInt(6);
                if (action <= 1) {
                    assertEquals(model.remove(key) != null, store.delete(buf, 0, keyLength), key);
                    expiring.remove(key);
                } else if (action == 2) {
                    int slot = store.find(buf, 0, keyLength);
                    assertEquals(model.containsKey(key), slot >= 0, key);
                    if (slot >= 0) {
                        // Timers of other keys stay valid while entries come and go: the queue
                        // checks the timer memory it was given is still where it was.
                        store.expireAt(slot, later + i);
                        expiring.add(key);
                    }
                } else {
                    String value = "v" + i;
                    int slot = store.findOrAdd(buf, 0, keyLength);
                    if (slot < 0) {
                        assertEquals(300, model.size(), "full only at the limit");
                        assertTrue(!model.containsKey(key));
                        continue;
                    }
                    int valueLength = put(buf, 32, value);
                    store.setValue(slot, buf, 32, valueLength);
                    if (action == 3 && store.persist(slot)) {
                        assertTrue(expiring.remove(key), key);
                    }
                    model.put(key, value);
                }
                assertEquals(model.size(), store.size());
                assertEquals(expiring.size(), store.expiring());
                assertEquals(expiring.size(), poller.timers().size(), "one timer per key with an expiry");
            }
            for (int k = 0; k < 400; k++) {
                String key = "k" + k;
                int keyLength = put(buf, 0, key);
                int slot = store.find(buf, 0, keyLength);
                String expected = model.get(key);
                if (expected == null) {
                    assertEquals(-1, slot, key);
                } else {
                    assertTrue(slot >= 0, key);
                    assertEquals(expected, Ascii.text(store.memory(), store.valueOffset(slot), store.valueLength(slot)));
                    assertEquals(expiring.contains(key), store.expireAt(slot) != 0, key);
                }
            }
            store.clear();
            assertEquals(0, store.size());
            assertEquals(0, poller.timers().size(), "clear cancels every timer");
        }
    }

    @Test
    void anExpiredKeyIsGoneBeforeItsTimerRunsAndTheTimerFreesItsEntry() throws IOException, InterruptedException {
        int max = 100;
        try (Arena arena = Arena.ofConfined(); Poller poller = Poller.open(PollerKind.ANY, 16, max)) {
            KeyValueStore store = new KeyValueStore(arena, max, poller.timers());
            MemorySegment buf = arena.allocate(64);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            for (int i = 0; i < max; i++) {
                int slot = store.findOrAdd(buf, 0, put(buf, 0, "key" + i));
                store.setValue(slot, buf, 0, 3);
                if (i % 2 == 0) {
                    store.expireAt(slot, deadline);
                }
            }
            assertEquals(max, store.size());
            assertEquals(-1, store.findOrAdd(buf, 0, put(buf, 0, "one-too-many")), "full");
            while (System.nanoTime() <= deadline) {
                Thread.sleep(10);
            }
            // The timers have not run (no dispatch yet), and yet the keys are gone for a lookup.
            assertEquals(max / 2, poller.timers().size());
            assertEquals(-1, store.find(buf, 0, put(buf, 0, "key0")));
            assertTrue(!store.delete(buf, 0, put(buf, 0, "key2")), "an expired key does not count as deleted");
            assertEquals(max / 2 - 2, poller.timers().size(), "looking at them freed two");
            // The loop runs the rest: each frees its entry.
            for (int i = 0; i < 100 && poller.timers().size() > 0; i++) {
                poller.await(100);
                poller.dispatch();
            }
            assertEquals(0, poller.timers().size());
            assertEquals(max / 2, store.size());
            assertEquals(max / 2, store.expiredKeys());
            for (int i = 0; i < max; i++) {
                assertEquals(i % 2 == 1, store.find(buf, 0, put(buf, 0, "key" + i)) >= 0, "key" + i);
            }
            for (int i = 0; i < max / 2; i++) {
                assertTrue(store.findOrAdd(buf, 0, put(buf, 0, "new" + i)) >= 0, "the freed entries are reused");
            }
            assertEquals(max, store.size());
        }
    }

    private static int put(MemorySegment buf, long at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, at, b.length);
        return b.length;
    }
}
