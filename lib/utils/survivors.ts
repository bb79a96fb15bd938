/**
 * Deferred registration with a FinalizationRegistry (the GC safety net of tensors and
 * native handles). Registering costs about a microsecond, more than a small op, and most
 * objects are disposed (by tidy or by hand) in the same synchronous stretch that made
 * them; so new objects wait in a queue, and only those still alive at the next turn of
 * the event loop are registered.
 */
export class SurvivorQueue<T> {
  private young: T[] = [];
  private scheduled = false;

  /** `register` is called once per queued object; it registers the object if it is still live. */
  constructor(private readonly register: (t: T) => void) {}

  watch(t: T): void {
    this.young.push(t);
    // A long synchronous loop must not keep every object it made alive until it ends.
    if (this.young.length >= 4096) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      }).unref();
    }
  }

  private flush(): void {
    const batch = this.young;
    this.young = [];
    for (const t of batch) this.register(t);
  }
}
