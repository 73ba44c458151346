import { describeEventStoreContract } from "../../test/support/event-store-contract.ts";
import { MemoryStore } from "./memory-store.ts";

describeEventStoreContract("memory", async () => new MemoryStore());
