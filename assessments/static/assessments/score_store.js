/* Typed values not yet acknowledged by the server, kept in IndexedDB until they are.
 *
 * Every cell typed and not saved is written here at once with the version it was based on, so a
 * crashed tab, a closed window or a dead laptop loses nothing: the grid replays these values when
 * it opens again (a cell changed meanwhile by someone else becomes a conflict, as always). Each
 * value belongs to the signed-in user: the grid reads only its user's values, and signing out
 * clears them once they are saved. Writes ask for strict durability (flushed to disk).
 */

const DATABASE = "thinslice-scores";
const STORE = "pending";

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

function open() {
  const opening = indexedDB.open(DATABASE, 1);
  opening.onupgradeneeded = () => {
    const store = opening.result.createObjectStore(STORE, { keyPath: "key" });
    store.createIndex("user", "user");
  };
  return request(opening);
}

export class PendingStore {
  /** user: the signed-in user's id; grid: the grid's save URL (one class × assessment). */
  constructor(user, grid) {
    this.user = String(user);
    this.grid = grid;
    this.database = open().catch(() => null); // private windows may refuse: the grid still works
    this.queue = Promise.resolve();
  }

  key(student, skill) {
    return `${this.user}|${this.grid}|${student}|${skill}`;
  }

  /* One write after another, in the order the grid asked for them. */
  run(mode, work) {
    this.queue = this.queue.then(async () => {
      const database = await this.database;
      if (!database) return undefined;
      return new Promise((resolve) => {
        const transaction = database.transaction(STORE, mode, { durability: "strict" });
        let result;
        Promise.resolve(work(transaction.objectStore(STORE))).then((value) => {
          result = value;
        });
        transaction.oncomplete = () => resolve(result);
        transaction.onerror = () => resolve(undefined);
        transaction.onabort = () => resolve(undefined);
      });
    });
    return this.queue;
  }

  /** Keep a typed value with the version it was based on (and its reason, if any). */
  put(student, skill, value, version, reason) {
    const record = {
      key: this.key(student, skill),
      user: this.user,
      grid: this.grid,
      student,
      skill,
      value,
      version,
      reason: reason || "",
    };
    return this.run("readwrite", (store) => store.put(record));
  }

  /** Forget a cell's value once the server has it (or the teacher took another value). */
  remove(student, skill) {
    return this.run("readwrite", (store) => store.delete(this.key(student, skill)));
  }

  /** This user's values for this grid. */
  async mine() {
    const all = await this.run("readonly", (store) => request(store.index("user").getAll(this.user)));
    return (all || []).filter((record) => record.grid === this.grid);
  }

  /** Forget every value of this user (signing out). */
  async clearUser() {
    await this.run("readwrite", async (store) => {
      const keys = await request(store.index("user").getAllKeys(this.user));
      keys.forEach((key) => store.delete(key));
    });
  }
}
