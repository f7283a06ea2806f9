// The console killed with SIGKILL while the live view and a log follow run: within 5 s
// nothing it started is left on the host (the supervisor ends each command's process
// group when its channel closes).
import { killedConsoleLeavesNothing } from "./support.mjs";

describe("the console killed with SIGKILL", () => {
  it("leaves no process on the host within 5 s", async () => {
    await killedConsoleLeavesNothing("KILL");
  });
});
