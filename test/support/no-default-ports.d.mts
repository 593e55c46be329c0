/** The fixed default ports of `npm start` that no test may bind. */
export declare const DEFAULT_PORTS: ReadonlySet<number>;
