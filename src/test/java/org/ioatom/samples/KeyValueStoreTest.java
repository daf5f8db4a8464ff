package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.ioatom.samples.server.Ascii;
import org.junit.jupiter.api.Test;

/** resp-server's off-heap store on its own, against a HashMap as the model. No server needed. */
class KeyValueStoreTest {

    @Test
    void storeAgreesWithAHashMapThroughRandomSetsAndDeletes() {
        try (Arena arena = Arena.ofConfined()) {
            KeyValueStore store = new KeyValueStore(arena, 300);
            MemorySegment buf = arena.allocate(64);
            Map<String, String> model = new HashMap<>();
            Random random = new Random(7);
            for (int i = 0; i < 50_000; i++) {
                String key = "k" + random.nextInt(400);
                int keyLength = put(buf, 0, key);
                if (random.nextInt(3) == 0) {
                    assertEquals(model.remove(key) != null, store.delete(buf, 0, keyLength), key);
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
                    model.put(key, value);
                }
                assertEquals(model.size(), store.size());
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
                }
            }
        }
    }

    private static int put(MemorySegment buf, long at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, at, b.length);
        return b.length;
    }
}
