/**
 * The ops image's default command (Dockerfile.ops CMD): lists the commands Kubernetes runs from
 * this image (ops/commands.ts). Each Job and CronJob names its own command; this one only explains.
 */
import { OPS_COMMANDS } from "./commands.js";

console.log("The ops image runs one of these commands (ops/commands.ts); set it as the container's command:");
for (const [name, argv] of Object.entries(OPS_COMMANDS)) console.log(`  ${name.padEnd(14)} ${argv.join(" ")}`);
