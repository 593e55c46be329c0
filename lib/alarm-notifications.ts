import type { IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';

/**
 * Sends every alarm of a scope to the operations topic, when it fires and when it clears: an alarm
 * nobody hears is no alarm. Added to the alarms' own actions, never in their place.
 */
export class NotifyAlarms implements IAspect {
  private readonly action: actions.SnsAction;

  constructor(topic: sns.ITopic) {
    this.action = new actions.SnsAction(topic);
  }

  visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.Alarm)) return;
    node.addAlarmAction(this.action);
    node.addOkAction(this.action);
  }
}
