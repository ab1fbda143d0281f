/**
 * A registry of one handler per kind of a tagged union, each handler typed for its own
 * member: the trigger sources (one per `TriggerSource['kind']`) and the actions (one per
 * `TriggerAction['kind']`). TypeScript has no type-level functions, so a handler family
 * is an interface whose `handler` is written in terms of `this['member']`; `ByKind`
 * reads it once per member:
 *
 *     interface IActionFamily extends IHandlerFamily {
 *       member: TriggerAction;
 *       handler: ITriggerAction<this['member']>;
 *     }
 *     type TriggerActions = ByKind<TriggerAction, IActionFamily>;
 */
export interface IHandlerFamily {
  member: { kind: string };
  handler: unknown;
}

/** The handler of the family F for the member M. */
export type HandlerOf<F extends IHandlerFamily, M> = (F & {
  member: M;
})['handler'];

/** One handler per kind of the union U. */
export type ByKind<U extends { kind: string }, F extends IHandlerFamily> = {
  [K in U['kind']]: HandlerOf<F, Extract<U, { kind: K }>>;
};

/** The handler of the value's kind, typed for the whole union. */
export function byKind<U extends { kind: string }, F extends IHandlerFamily>(
  registry: ByKind<U, F>,
  value: U
): HandlerOf<F, U> {
  return registry[value.kind as U['kind']] as HandlerOf<F, U>;
}
