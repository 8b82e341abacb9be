/*
 * Starts a Kroxylicious proxy from a YAML config file, as kroxylicious-app's
 * main() does: parse the file, build the proxy with the default feature set,
 * start it and block until it stops. Used by benchmarks/scripts/peers.sh
 * because the registry we can reach serves kroxylicious-runtime but not
 * kroxylicious-app (see pom.xml beside this file).
 *
 * Usage: java -cp 'libs/*:classes' KroxyliciousMain CONFIG.yaml
 */
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import io.kroxylicious.proxy.KafkaProxy;
import io.kroxylicious.proxy.config.ConfigParser;
import io.kroxylicious.proxy.config.Configuration;
import io.kroxylicious.proxy.internal.config.Features;

public final class KroxyliciousMain {
    private KroxyliciousMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: KroxyliciousMain CONFIG.yaml");
            System.exit(2);
        }
        ConfigParser parser = new ConfigParser();
        Configuration config;
        try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
            config = parser.parseConfiguration(in);
        }
        KafkaProxy proxy = new KafkaProxy(parser, config, Features.defaultFeatures());
        // SIGTERM runs shutdown hooks: close listeners and upstream
        // connections so a stop is clean rather than a hard exit.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                proxy.shutdown();
            } catch (RuntimeException e) {
                // Already stopped (block() returned first); nothing to do.
            }
        }, "kroxylicious-shutdown"));
        proxy.startup();
        proxy.block();
    }
}
