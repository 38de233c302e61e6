import { StringDecoder } from "node:string_decoder";

/** Longest log line kept whole; longer lines are cut so one line cannot flood a message. */
export const MAX_LINE_CHARS = 8192;

/** Splits a byte stream into lines, handling multi-byte characters cut across chunks. */
export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  constructor(
    private readonly onLine: (line: string) => void,
    /** Called after each chunk with the line still unfinished, if any (a prompt, `test_x ... `). */
    private readonly onPartial: (text: string) => void = () => {},
  ) {}

  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let newline = this.pending.indexOf("\n");
    while (newline !== -1) {
      this.emit(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf("\n");
    }
    if (this.pending.length > MAX_LINE_CHARS) {
      this.emit(this.pending);
      this.pending = "";
    }
    if (this.pending !== "") this.onPartial(this.pending);
  }

  end(): void {
    this.pending += this.decoder.end();
    if (this.pending !== "") this.emit(this.pending);
    this.pending = "";
  }

  private emit(line: string): void {
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    this.onLine(text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)} [line cut]` : text);
  }
}
