/** The autopilot's state in memory: one value, written conditionally on its version. */
import { Autopilot } from "@foreman/core"
import { Effect, Layer, Option, Ref } from "effect"

export const make = Effect.map(Ref.make(Option.none<Autopilot.State>()), (ref) =>
  Autopilot.AutopilotStore.of({
    get: Ref.get(ref),
    save: (state, expected) =>
      Ref.modify(ref, (current) => {
        const version = Option.match(current, { onNone: () => null, onSome: (s) => s.version })
        return version === expected ? [true, Option.some(state)] : [false, current]
      })
  }))

export const layer: Layer.Layer<Autopilot.AutopilotStore> = Layer.effect(Autopilot.AutopilotStore, make)
