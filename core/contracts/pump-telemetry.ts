import { defineTelemetryContract } from './contract.ts';

/** The measures of version 1, which later versions build on. */
const PUMP_MEASURES = {
  vibrationRmsX: {
    unit: 'g',
    min: 0,
    max: 50,
    column: 'vibration_rms_x',
    description: 'RMS vibration on the radial X axis.',
  },
  vibrationRmsY: {
    unit: 'g',
    min: 0,
    max: 50,
    column: 'vibration_rms_y',
    description: 'RMS vibration on the radial Y axis.',
  },
  motorCurrent: {
    unit: 'A',
    min: 0,
    max: 400,
    column: 'motor_current',
    description: 'Motor phase current.',
  },
  outletPressure: {
    unit: 'bar',
    min: -1,
    max: 40,
    column: 'outlet_pressure',
    description: 'Gauge pressure at the pump outlet.',
  },
  motorTemperature: {
    unit: 'degC',
    min: -40,
    max: 200,
    column: 'motor_temperature',
    description: 'Motor winding temperature.',
  },
  fluidTemperature: {
    unit: 'degC',
    min: -20,
    max: 150,
    column: 'fluid_temperature',
    description: 'Temperature of the pumped fluid.',
  },
  supplyVoltage: {
    unit: 'V',
    min: 0,
    max: 1000,
    column: 'supply_voltage',
    description: 'Motor supply voltage.',
  },
  flowRate: {
    unit: 'l/min',
    min: 0,
    max: 20000,
    column: 'flow_rate',
    description: 'Volumetric flow rate at the outlet.',
  },
};

// Typical values of a small pump in normal operation (the SKAB test bed's order of magnitude).
const PUMP_EXAMPLE = {
  vibrationRmsX: 0.027,
  vibrationRmsY: 0.04,
  motorCurrent: 1.35,
  outletPressure: 0.38,
  motorTemperature: 79.5,
  fluidTemperature: 26.0,
  supplyVoltage: 236.0,
  flowRate: 32.0,
};

/**
 * `pump.telemetry@1`: readings of a centrifugal pump. Ranges are what the sensors can physically
 * report, not alarm limits: a value outside them is a faulty sensor or a corrupted message.
 */
export const pumpTelemetryV1 = defineTelemetryContract({
  id: 'pump.telemetry',
  version: 1,
  description: 'Centrifugal pump telemetry: vibration, motor, hydraulic and supply readings.',
  measures: PUMP_MEASURES,
  exampleMeasures: PUMP_EXAMPLE,
});

/**
 * `pump.telemetry@2`: version 1 and the drive-end bearing temperature, which newer pumps measure.
 * The new measure is optional, so the change is compatible: a device on version 1 sends valid
 * version 2 messages (`aiot contracts diff pump.telemetry@1 pump.telemetry@2`).
 */
export const pumpTelemetryV2 = defineTelemetryContract({
  id: 'pump.telemetry',
  version: 2,
  description: 'Centrifugal pump telemetry: vibration, motor, hydraulic, supply and bearing readings.',
  measures: {
    ...PUMP_MEASURES,
    bearingTemperature: {
      unit: 'degC',
      min: -40,
      max: 250,
      column: 'bearing_temperature',
      description: 'Drive-end bearing temperature.',
      optional: true,
    },
  },
  exampleMeasures: { ...PUMP_EXAMPLE, bearingTemperature: 48.0 },
});
