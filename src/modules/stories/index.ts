export { authorStoryRoutes, storyRoutes } from './routes.ts'
export { StoryIdParams, StoryListItem } from './schemas.ts'
export { stories } from './stories.table.ts'
