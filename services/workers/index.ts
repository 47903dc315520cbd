/** Registers one handler per job type with the engine. */
import type { JobEngine } from "../jobs/engine.js";
import type { WorkerDeps } from "./common.js";
import { imageHandler } from "./image.js";
import { importHandler } from "./import.js";
import { pushHandler } from "./push.js";
import { sourceCheckHandler } from "./source-check.js";
import { translationHandler } from "./translation.js";

export type { WorkerDeps };

export function registerWorkers(engine: JobEngine, deps: WorkerDeps): void {
  engine.register("import", importHandler(deps));
  engine.register("translation", translationHandler(deps));
  engine.register("image", imageHandler(deps), { timeoutMs: 120_000 });
  engine.register("source_check", sourceCheckHandler(deps));
  engine.register("push", pushHandler(deps));
}
