package dev.abacsync.mongo;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Runs mongo-java-server's in-memory backend (with {@link IdAnchoredMemoryBackend}'s query planning) on a
 * loopback port.
 *
 * <p>Usage: {@code java -cp ... dev.abacsync.mongo.Launcher [port]} (0 or nothing = a free port). Prints one
 * line {@code READY mongodb://127.0.0.1:<port> <version>} once it accepts connections, and stops when its
 * standard input closes, so a parent that dies never leaves it behind.
 */
public final class Launcher {

  /** The MongoDB Node driver 7 refuses servers below wire version 9; 7.0 reports wire version 21. */
  static final MongoVersion REPORTED_VERSION =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(7, 0, 0);
        }

        @Override
        public int getWireVersion() {
          return 21;
        }
      };

  private Launcher() {}

  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    MemoryBackend backend = new IdAnchoredMemoryBackend();
    backend.version(REPORTED_VERSION);
    MongoServer server = new MongoServer(backend);
    server.bind("127.0.0.1", port);
    InetSocketAddress address = server.getLocalAddress();
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    System.out.println(
        "READY mongodb://127.0.0.1:"
            + address.getPort()
            + " mongo-java-server/1.47.0 (reports MongoDB "
            + REPORTED_VERSION.toVersionString()
            + ")");
    System.out.flush();
    waitForStdinToClose(System.in);
    server.shutdownNow();
    System.exit(0);
  }

  private static void waitForStdinToClose(InputStream in) throws IOException {
    byte[] buffer = new byte[256];
    while (in.read(buffer) >= 0) {
      // The parent keeps the pipe open while it needs the server.
    }
  }
}
