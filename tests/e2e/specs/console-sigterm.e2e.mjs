// The console killed with SIGTERM while the live view and a log follow run: within 5 s
// nothing it started is left on the host (the supervisor ends each command's process
// group when its channel closes; SIGTERM also closes the connections in order).
import { killedConsoleLeavesNothing } from "./support.mjs";

describe("the console killed with SIGTERM", () => {
  it("leaves no process on the host within 5 s", async () => {
    await killedConsoleLeavesNothing("TERM");
  });
});
