// cdk-nag is CommonJS with exports Node's ESM loader cannot see by name: reach them through the default export.
import cdkNag from 'cdk-nag';

export const { AwsSolutionsChecks } = cdkNag;
