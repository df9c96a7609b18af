/**
 * What the training worker hands to the backtest worker inside its result:
 * the network, the indicators it was trained on, the instrument, the label
 * horizon and where the held-out window starts. The backtest runs in another
 * process, so this is all it knows about the training.
 */
import { Schema } from "effect"
import { Mlp } from "./model.js"
import { Indicator } from "./strategySpec.js"

export const TrainedModel = Schema.Struct({
  instrument: Schema.String,
  indicators: Schema.NonEmptyArray(Indicator),
  labelHorizonDays: Schema.Number.pipe(Schema.int(), Schema.positive()),
  /** First date of the held-out window (`YYYY-MM-DD`); the model never saw it. */
  holdoutFrom: Schema.String,
  network: Mlp
})
export type TrainedModel = typeof TrainedModel.Type
